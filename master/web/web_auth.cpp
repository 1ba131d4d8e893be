#include "master/web/web_auth.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "common/base64.hpp"
#include "common/scram.hpp"

namespace bb::web {

namespace {
constexpr std::size_t kMaxTrackedAddresses = 10000;
}

WebAuth::WebAuth(std::function<const MasterConfig&()> config, Now now, Options opts)
    : config_(std::move(config)), now_(std::move(now)), opts_(opts) {}

WebAuth::WebAuth(std::function<const MasterConfig&()> config)
    : WebAuth(std::move(config), [] { return std::chrono::steady_clock::now(); }, Options{}) {}

bool WebAuth::checkPassword(const std::string& user, const std::string& password) const {
  const UserEntry* u = config_().findUser(user);
  // An unknown user costs as much as a known one: derive against a dummy.
  static const ScramVerifier kDummy = deriveScramVerifier("x", std::string(16, 's'), kScramDefaultIterations);
  std::optional<ScramVerifier> stored = u ? parseScramVerifier(u->passwordVerifier) : std::nullopt;
  const ScramVerifier& ref = stored ? *stored : kDummy;
  const ScramVerifier got = deriveScramVerifier(password, ref.salt, ref.iterations);
  const bool same = got.storedKey.size() == ref.storedKey.size() &&
                    CRYPTO_memcmp(got.storedKey.data(), ref.storedKey.data(), got.storedKey.size()) == 0;
  return same && stored.has_value();
}

std::string WebAuth::authenticate(const HttpRequest& req) {
  const std::string h = req.header("authorization");
  if (h.empty()) return "";
  const auto t = now_();
  if (auto it = failures_.find(req.remote); it != failures_.end() && t < it->second.lockedUntil)
    throw HttpError(429, "too many failed logins from " + req.remote + "; try again in " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                it->second.lockedUntil - t).count() + 1) + " s");
  static const std::string kBasic = "Basic ";
  if (h.size() <= kBasic.size() || strncasecmp(h.c_str(), kBasic.c_str(), kBasic.size()) != 0)
    throw HttpError(401, "only HTTP Basic authorization is accepted");
  const auto decoded = base64Decode(std::string_view(h).substr(kBasic.size()));
  const auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) throw HttpError(401, "malformed Basic credentials (base64 of user:password)");
  const std::string user = decoded->substr(0, colon);
  if (!checkPassword(user, decoded->substr(colon + 1))) {
    noteFailure(req.remote, user);
    throw HttpError(401, "wrong user name or password");
  }
  failures_.erase(req.remote);
  return user;
}

void WebAuth::noteFailure(const std::string& remote, const std::string& user) {
  const auto t = now_();
  if (failures_.size() >= kMaxTrackedAddresses)
    std::erase_if(failures_, [&](const auto& kv) {
      return t >= kv.second.lockedUntil && t - kv.second.first > opts_.window;
    });
  auto& f = failures_[remote];
  if (f.count == 0 || t - f.first > opts_.window) {
    f.count = 0;
    f.first = t;
  }
  ++f.count;
  spdlog::warn("web: failed login for user '{}' from {} ({} in the last {} s)", user, remote, f.count,
               opts_.window.count());
  if (f.count >= opts_.maxFailures) {
    f.lockedUntil = t + opts_.lockout;
    f.count = 0;
    spdlog::warn("web: {} failed logins from {}: refusing its logins for {} s", opts_.maxFailures, remote,
                 opts_.lockout.count());
  }
}

void WebAuth::require(const std::string& user, const std::string& right) const {
  if (user.empty()) throw HttpError(401, "log in first (HTTP Basic with a user of the config's users:)");
  const UserEntry* u = config_().findUser(user);
  if (!u) throw HttpError(401, "user '" + user + "' is no longer configured");
  if (!u->mayDo(right))
    throw HttpError(403, "user '" + user + "' may not do this (add '" + right + "' to its `may` list)");
}

}  // namespace bb::web
