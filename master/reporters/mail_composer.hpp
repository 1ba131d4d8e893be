#pragma once
// Writes the mail about one build or one BuildSet: reads the database on
// the master's loop (the build, its steps and logs, the BuildSet, its
// changes), fills the template placeholders, picks the recipients and
// attaches the logs within the caps. Pure reading; nothing is sent here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/master_config.hpp"
#include "master/db/records.hpp"
#include "master/reporters/mail_config.hpp"
#include "master/reporters/mail_message.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class SecretStore;

struct ComposedMail {
  MailMessage message;
  std::vector<std::string> envelopeTo;  // bare addresses, no duplicates
  std::string what;                     // "mail for b1 #3", for log lines
};

// The web address of a build: {master.url}/builders/{builder}/builds/{number}.
std::string buildUrl(const MasterSection& m, const std::string& builder, int number);
// The web address of a BuildSet: {master.url}/buildsets/{id}.
std::string buildsetUrl(const MasterSection& m, std::int64_t id);

// The build's previous result on its builder (RETRY and try builds skipped).
std::optional<Result> previousResult(db::Database& db, const db::BuildRecord& b);

// The mail for build `b` (finished). nullopt when it has no recipient.
std::optional<ComposedMail> composeBuildMail(db::Database& db, const MailOptions& o,
                                             const MasterConfig& cfg, const SecretStore& secrets,
                                             const db::BuildRecord& b, std::int64_t now);
// The mail for a completed BuildSet, one section per build. nullopt when
// it has no recipient.
std::optional<ComposedMail> composeBuildsetMail(db::Database& db, const MailOptions& o,
                                                const MasterConfig& cfg, const SecretStore& secrets,
                                                const db::BuildsetRecord& bs,
                                                const std::vector<db::BuildRecord>& builds,
                                                std::int64_t now);

}  // namespace bb
