#pragma once
// The route table: METHOD + a path pattern with {name} segments -> a
// handler. Adding a page is one add() call:
//   router.add("GET", "/builders/{name}", [](const HttpRequest& r, const PathParams& p) {
//     return htmlResponse(...);
//   });
// A path that matches no pattern is 404; one that matches with another
// method is 405 (with Allow).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "master/web/http_message.hpp"

namespace bb::web {

using PathParams = std::map<std::string, std::string>;
using Handler = std::function<HttpResponse(HttpRequest&, const PathParams&)>;

class Router {
 public:
  // `pattern` is "/a/{x}/b": literal segments and {name} segments that
  // match any one non-empty segment. A trailing "/*" matches the rest.
  void add(const std::string& method, const std::string& pattern, Handler h);
  // The answer of the first matching route, or 404/405 in errorResponse's
  // shape. HttpError thrown by a handler becomes its error response.
  HttpResponse dispatch(HttpRequest& req) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static std::vector<std::string> split(const std::string& path);
  static bool match(const Route& r, const std::vector<std::string>& segs, PathParams& out);
  std::vector<Route> routes_;
};

}  // namespace bb::web
