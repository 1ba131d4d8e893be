#pragma once
// Parsing of the values every `buildbot` verb shares: the master address,
// the credentials, NAME:VALUE properties, and the ~/.buildbot/options file.
//
// Precedence for master and auth: command-line flag > environment
// (BUILDBOT_MASTER, BUILDBOT_AUTH) > options file (keys `master`, `auth`).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/master_address.hpp"
#include "common/message.hpp"  // Json

namespace bb::client {

inline constexpr const char* kEnvMaster = "BUILDBOT_MASTER";
inline constexpr const char* kEnvAuth = "BUILDBOT_AUTH";
inline constexpr const char* kEnvMasterFingerprint = "BUILDBOT_MASTER_FINGERPRINT";

using bb::MasterAddress;  // common/master_address.hpp

struct Credentials {
  std::string user;
  std::string password;
};

// How the client trusts the master: TLS pinned to a certificate
// fingerprint ("SHA256:<hex>", canonical) and/or a CA file, or plain TCP
// (tls false) when the user says so (--plaintext, `tls = false`).
struct MasterTrust {
  bool tls = true;
  std::string fingerprint;
  std::string caFile;
};

// Parses "HOST:PORT" (IPv6 as "[::1]:PORT") with bb::parseMasterAddress;
// throws UsageError "bad master address 'TEXT': WHAT IS WRONG".
MasterAddress parseMasterAddress(const std::string& text);

// Parses "USER:PASSWORD" (split at the first ':'; the password may contain
// ':'); throws UsageError if there is no ':' or the user is empty.
Credentials parseAuth(const std::string& text);

// Parses "NAME:VALUE" (split at the first ':'); throws UsageError if there is
// no ':' or the name is empty. The value may be empty.
std::pair<std::string, std::string> parseProperty(const std::string& text);

// Parses a list of NAME:VALUE into a JSON object of strings; a repeated name
// keeps the last value.
Json parseProperties(const std::vector<std::string>& items);

// Parses an options file: `key = value` lines; blank lines and lines starting
// with '#' are ignored; values may be wrapped in single or double quotes.
// Throws UsageError("<source>:<line>: ...") for a line without '='.
std::map<std::string, std::string> parseOptionsFile(const std::string& text,
                                                    const std::string& source);

// Reads and parses `path`; a missing file gives an empty map, an unreadable
// or malformed one throws UsageError.
std::map<std::string, std::string> loadOptionsFile(const std::string& path);

// The default options file: $HOME/.buildbot/options ("" without HOME).
std::string defaultOptionsPath(const std::function<std::optional<std::string>(const char*)>& getenv);

// Where a resolved setting came from, for error messages.
enum class SettingSource { Flag, AuthFile, Environment, OptionsFile, None };
std::string toString(SettingSource s);

struct ResolvedSetting {
  std::optional<std::string> value;
  SettingSource source = SettingSource::None;
};

// Picks flag > env > file for one setting.
ResolvedSetting resolveSetting(const std::optional<std::string>& flag,
                               const std::optional<std::string>& env,
                               const std::map<std::string, std::string>& file,
                               const std::string& fileKey);

}  // namespace bb::client
