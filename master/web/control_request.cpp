#include "master/web/control_request.hpp"

#include <spdlog/spdlog.h>

#include "master/web/web_auth.hpp"

namespace bb::web {

namespace {

// "https://ci.example.org:8443/prefix/" -> "https://ci.example.org:8443".
std::string originOf(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

}  // namespace

bool sameOrigin(const HttpRequest& req, const std::string& masterUrl) {
  const std::string origin = req.header("origin");
  if (origin.empty()) return true;  // not a browser's cross-site request
  if (origin == originOf(masterUrl)) return true;
  const std::string host = req.header("host");
  return !host.empty() && (origin == "http://" + host || origin == "https://" + host);
}

ControlRequest ControlRequest::decode(HttpRequest& req, WebContext& ctx) {
  ControlRequest c;
  c.target = req.path;
  if (!sameOrigin(req, ctx.config().master.url)) {
    spdlog::warn("web: refused a control request to {} from {} with foreign Origin '{}'", req.path, req.remote,
                 req.header("origin"));
    throw HttpError(403, "control requests must come from the master's own pages (Origin '" +
                             req.header("origin") + "' is not " + ctx.config().master.url + ")");
  }
  const std::string type = req.header("content-type");
  if (type.rfind("application/json", 0) != 0)
    throw HttpError(415, "control requests must be JSON (Content-Type: application/json), got '" + type + "'");
  c.user = ctx.auth.authenticate(req);
  if (c.user.empty()) throw HttpError(401, "control needs a login (HTTP Basic with a user of the config's users:)");
  req.user = c.user;
  Json body;
  try {
    body = Json::parse(req.body);
  } catch (const Json::parse_error& e) {
    throw HttpError(400, std::string("the body is not valid JSON: ") + e.what());
  }
  if (!body.is_object()) throw HttpError(400, "the body must be a JSON object {\"method\": ..., \"params\": {...}}");
  auto m = body.find("method");
  if (m == body.end() || !m->is_string()) throw HttpError(400, "method is required (a string)");
  c.method = m->get<std::string>();
  if (auto p = body.find("params"); p != body.end() && !p->is_null()) {
    if (!p->is_object()) throw HttpError(400, "params must be an object");
    c.params = *p;
  }
  if (auto id = body.find("id"); id != body.end()) c.id = *id;
  return c;
}

}  // namespace bb::web
