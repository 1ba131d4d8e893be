#pragma once
// The settings every HTTP reporter shares (github_status, gitlab_status,
// gitea_status, http_push): which builders it watches, how it delivers
// (queue bound, retry back-off, timeout, TLS check), and the checks of a
// URL and of a secret reference. docs/notifiers.md describes the keys.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_kinds.hpp"
#include "config/master_config.hpp"

namespace bb {

struct HttpReporterOptions : ReporterOptions {
  std::vector<std::string> builders;  // empty: every builder
  std::size_t maxQueued = 1000;
  std::chrono::seconds retryInitial{1}, retryMax{300};
  std::chrono::seconds timeout{30};
  bool tlsVerify = true;

  bool watchesBuilder(const std::string& builder) const;
};

// The keys read by readHttpReporterKeys, for allowKeys.
const std::vector<std::string>& httpReporterKeys();

// Reads builders, queue, retry {initial, max}, timeout and tls_verify into
// `o`; false if any was wrong (each error recorded).
bool readHttpReporterKeys(cfg::MapReader& r, cfg::MasterParse& p, HttpReporterOptions& o);

// Why `url` is not an http:// or https:// URL with a host, or "".
std::string checkHttpUrl(const std::string& url);

// Reads `key`, which must be one whole "%(secret:NAME)s" (tokens and
// signing keys live in `secrets:`, never in the config file); records the
// use, so an undefined secret is a config error. nullopt (with the error
// recorded) otherwise; `required` reports a missing key.
std::optional<std::string> readSecretKey(cfg::MapReader& r, cfg::MasterParse& p, std::string_view key,
                                         bool required);

}  // namespace bb
