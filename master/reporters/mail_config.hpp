#pragma once
// The mail reporter's settings (a `type: mail` item of `reporters:`) and
// their config check. docs/notifiers.md describes each key.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_kinds.hpp"
#include "config/master_config.hpp"

namespace bb {

// When a build (or BuildSet) is mailed; several modes: any one suffices.
enum class MailMode { All, Failing, Passing, Problem, Change, Warnings, Exception };
std::string_view toString(MailMode m);
std::optional<MailMode> mailModeFromString(std::string_view s);

struct MailOptions : ReporterOptions {
  std::string smtpUrl;  // smtp://host[:port] or smtps://host[:port]
  bool starttls = false;  // smtp:// only: STARTTLS is required
  bool tlsVerify = true;  // check the server's certificate (STARTTLS, smtps)
  std::string user;
  std::string password;   // may be "%(secret:NAME)s"
  std::string from;       // "CI <ci@example.org>" or an address
  std::vector<std::string> to;
  // What is watched: builds of these builders, or of BuildSets made by
  // these schedulers (both empty: every builder). With `buildsets`, one
  // mail per BuildSet instead, for BuildSets of `schedulers` (empty:
  // all) that have a build of `builders` (empty: any).
  std::vector<std::string> builders, schedulers;
  bool buildsets = false;
  std::set<MailMode> modes{MailMode::All};
  std::map<std::string, std::vector<std::string>> builderRecipients;
  bool blamelist = false;
  bool attachLogs = false;
  std::size_t maxLogBytes = 64 * 1024;
  std::size_t maxMailBytes = 1024 * 1024;
  std::optional<std::string> subject, body;  // templates (mail_template.hpp)
  std::size_t maxQueued = 100;
  std::chrono::seconds retryInitial{1}, retryMax{300};
  std::chrono::seconds timeout{60};  // one SMTP dialogue, connecting included
};

// The kind's config check: reads every key of a mail reporter item.
bool parseMailReporter(cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e);

}  // namespace bb
