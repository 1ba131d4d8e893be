#include "master/reporters/http_reporter_config.hpp"

#include <algorithm>

#include "common/interpolate.hpp"
#include "config/yaml_util.hpp"

namespace bb {

bool HttpReporterOptions::watchesBuilder(const std::string& builder) const {
  return builders.empty() || std::find(builders.begin(), builders.end(), builder) != builders.end();
}

const std::vector<std::string>& httpReporterKeys() {
  static const std::vector<std::string> keys{"builders", "queue", "retry", "timeout", "tls_verify"};
  return keys;
}

bool readHttpReporterKeys(cfg::MapReader& r, cfg::MasterParse& p, HttpReporterOptions& o) {
  bool ok = true;
  if (auto list = r.stringList("builders")) {
    YAML::Node node = r.value("builders");
    for (std::size_t i = 0; i < list->size(); ++i)
      p.refer(cfg::RefKind::Builder, (*list)[i], node[i].Mark(), r.what());
    o.builders = *list;
  } else if (r.has("builders")) {
    ok = false;
  }
  if (auto n = r.integer("queue", 1, 100000)) o.maxQueued = static_cast<std::size_t>(*n);
  else if (r.has("queue")) ok = false;
  if (r.has("retry")) {
    cfg::MapReader retry(r.value("retry"), r.what() + ", retry", p.sink, r.markOf("retry"));
    if (!retry.isMap()) {
      ok = false;
    } else {
      retry.allowKeys({"initial", "max"});
      if (auto n = retry.integer("initial", 1, 3600)) o.retryInitial = std::chrono::seconds(*n);
      if (auto n = retry.integer("max", 1, 86400)) o.retryMax = std::chrono::seconds(*n);
      if (o.retryMax < o.retryInitial) {
        retry.error(retry.markOf("max"), "max (" + std::to_string(o.retryMax.count()) +
                                             " s) must not be less than initial (" +
                                             std::to_string(o.retryInitial.count()) + " s)");
        ok = false;
      }
    }
  }
  if (auto n = r.integer("timeout", 1, 3600)) o.timeout = std::chrono::seconds(*n);
  else if (r.has("timeout")) ok = false;
  if (auto v = r.boolean("tls_verify")) o.tlsVerify = *v;
  else if (r.has("tls_verify")) ok = false;
  return ok;
}

std::string checkHttpUrl(const std::string& url) {
  const bool http = url.rfind("http://", 0) == 0, https = url.rfind("https://", 0) == 0;
  if (!http && !https) return "must start with http:// or https://";
  const std::string rest = url.substr(https ? 8 : 7);
  const auto hostEnd = rest.find_first_of("/?#");
  const std::string host = rest.substr(0, hostEnd);
  if (host.empty() || host.front() == ':' || host.find('@') != std::string::npos)
    return "has no host (http[s]://HOST[:PORT][/PATH]; no user@ part)";
  if (url.find_first_of(" \t\r\n") != std::string::npos) return "contains white space";
  if (const auto colon = host.rfind(':'); colon != std::string::npos && host.back() != ']') {
    const std::string port = host.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoi(port) == 0 || std::stoi(port) > 65535)
      return "has a bad port '" + port + "'";
  }
  return "";
}

std::optional<std::string> readSecretKey(cfg::MapReader& r, cfg::MasterParse& p, std::string_view key,
                                         bool required) {
  auto text = r.string(key, required);
  if (!text) return std::nullopt;
  const auto names = secretNames(*text);
  if (names.size() != 1 || *text != "%(secret:" + names[0] + ")s") {
    // The value is not echoed: it may be the token itself.
    r.error(r.markOf(key), std::string(key) + " must be exactly \"%(secret:NAME)s\", naming a secret "
                           "defined under secrets: (a token does not belong in the config file)");
    return std::nullopt;
  }
  cfg::checkSecretInterpolation(r, p, r.markOf(key), key, *text);
  return text;
}

}  // namespace bb
