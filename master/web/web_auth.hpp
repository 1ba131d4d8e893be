#pragma once
// Who is asking: HTTP Basic credentials checked against the same SCRAM
// verifiers the client protocol uses (the config's `users:`; no other
// password store), the user's `may` list, and a limit on failed logins
// per client address.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "config/master_config.hpp"
#include "master/web/http_message.hpp"

namespace bb::web {

class WebAuth {
 public:
  using Now = std::function<std::chrono::steady_clock::time_point()>;
  struct Options {
    int maxFailures = 5;                        // failed logins per address...
    std::chrono::seconds window{60};            // ...within this; then
    std::chrono::seconds lockout{60};           // 429 for this long
    std::chrono::hours sessionLifetime{8};      // a login form's session
    std::size_t maxSessions = 10000;            // oldest dropped beyond this
  };

  WebAuth(std::function<const MasterConfig&()> config, Now now, Options opts);
  explicit WebAuth(std::function<const MasterConfig&()> config);

  // The user named by the request's Authorization header, or else by its
  // session cookie (startSession), "" when it has neither. Throws HttpError 401 for wrong credentials (logged, counted) or
  // a malformed header, 429 while the address is locked out.
  std::string authenticate(const HttpRequest& req);
  // Throws HttpError 401 when `user` is "" and 403 unless the user's `may`
  // list has `right`.
  void require(const std::string& user, const std::string& right) const;
  // Whether `password` is `user`'s: StoredKey derived with the verifier's
  // salt and iterations, compared in constant time.
  bool checkPassword(const std::string& user, const std::string& password) const;

  // Login form: checks the password like authenticate() (counted, rate
  // limited, logged; HttpError 401/429) and returns a new session token
  // for the cookie kSessionCookie, valid for `sessionLifetime`.
  std::string login(const HttpRequest& req, const std::string& user, const std::string& password);
  // Forgets the request's session (logout).
  void logout(const HttpRequest& req);
  static constexpr const char* kSessionCookie = "bb_session";

 private:
  void noteFailure(const std::string& remote, const std::string& user);
  struct Failures {
    int count = 0;
    std::chrono::steady_clock::time_point first, lockedUntil;
  };
  std::function<const MasterConfig&()> config_;
  Now now_;
  Options opts_;
  std::map<std::string, Failures> failures_;  // by address; pruned, bounded
  void checkLockout(const HttpRequest& req) const;
  std::string sessionToken(const HttpRequest& req) const;
  struct Session {
    std::string user;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Session> sessions_;  // by token
};

}  // namespace bb::web
