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
  };

  WebAuth(std::function<const MasterConfig&()> config, Now now, Options opts);
  explicit WebAuth(std::function<const MasterConfig&()> config);

  // The user named by the request's Authorization header, "" when it has
  // none. Throws HttpError 401 for wrong credentials (logged, counted) or
  // a malformed header, 429 while the address is locked out.
  std::string authenticate(const HttpRequest& req);
  // Throws HttpError 401 when `user` is "" and 403 unless the user's `may`
  // list has `right`.
  void require(const std::string& user, const std::string& right) const;
  // Whether `password` is `user`'s: StoredKey derived with the verifier's
  // salt and iterations, compared in constant time.
  bool checkPassword(const std::string& user, const std::string& password) const;

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
};

}  // namespace bb::web
