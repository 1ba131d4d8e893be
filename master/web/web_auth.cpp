#include "master/web/web_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
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

void WebAuth::checkLockout(const HttpRequest& req) const {
  const auto t = now_();
  if (auto it = failures_.find(req.remote); it != failures_.end() && t < it->second.lockedUntil)
    throw HttpError(429, "too many failed logins from " + req.remote + "; try again in " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                it->second.lockedUntil - t).count() + 1) + " s");
}

std::string WebAuth::sessionToken(const HttpRequest& req) const {
  const std::string cookies = req.header("cookie");
  const std::string key = std::string(kSessionCookie) + "=";
  std::size_t pos = 0;
  while (pos < cookies.size()) {
    while (pos < cookies.size() && (cookies[pos] == ' ' || cookies[pos] == ';')) ++pos;
    auto end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    if (cookies.compare(pos, key.size(), key) == 0) return cookies.substr(pos + key.size(), end - pos - key.size());
    pos = end;
  }
  return "";
}

std::string WebAuth::authenticate(const HttpRequest& req) {
  const std::string h = req.header("authorization");
  if (h.empty()) {
    const std::string token = sessionToken(req);
    if (token.empty()) return "";
    auto it = sessions_.find(token);
    if (it == sessions_.end() || now_() >= it->second.expires || !config_().findUser(it->second.user)) {
      if (it != sessions_.end()) sessions_.erase(it);
      throw HttpError(401, "the session has ended; log in again");
    }
    return it->second.user;
  }
  checkLockout(req);
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

std::string WebAuth::login(const HttpRequest& req, const std::string& user, const std::string& password) {
  checkLockout(req);
  if (!checkPassword(user, password)) {
    noteFailure(req.remote, user);
    throw HttpError(401, "wrong user name or password");
  }
  failures_.erase(req.remote);
  const auto t = now_();
  std::erase_if(sessions_, [&](const auto& kv) { return t >= kv.second.expires; });
  while (sessions_.size() >= opts_.maxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.expires < oldest->second.expires) oldest = it;
    sessions_.erase(oldest);
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no random bytes for a session token");
  static const char* kHex = "0123456789abcdef";
  std::string token;
  for (unsigned char c : raw) {
    token.push_back(kHex[c >> 4]);
    token.push_back(kHex[c & 15]);
  }
  sessions_[token] = Session{user, t + opts_.sessionLifetime};
  spdlog::info("web: {} logged in from {}", user, req.remote);
  return token;
}

void WebAuth::logout(const HttpRequest& req) {
  const std::string token = sessionToken(req);
  if (!token.empty()) sessions_.erase(token);
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
