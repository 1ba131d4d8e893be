#pragma once
// A control request as the web accepts it: same-origin when a browser sent
// it, JSON, from a logged-in user, in Buildbot's JSON-RPC shape. decode()
// checks all of it, in that order, and throws the HttpError that says what
// is wrong (403 foreign Origin, 415 not JSON, 401 no or wrong login, 429
// too many failed logins, 400 malformed).
#include <string>

#include "common/message.hpp"
#include "master/web/http_message.hpp"
#include "master/web/web_context.hpp"

namespace bb::web {

struct ControlRequest {
  std::string user;
  std::string method;
  Json params = Json::object();
  Json id;             // echoed in the reply
  std::string target;  // for log lines

  static ControlRequest decode(HttpRequest& req, WebContext& ctx);
};

// Whether the request's Origin (if any) is the master's own: the origin
// of master.url, or the Host the request was sent to.
bool sameOrigin(const HttpRequest& req, const std::string& masterUrl);

}  // namespace bb::web
