// The login form: GET /login shows it, POST /login checks the password
// against the users' SCRAM verifiers (as HTTP Basic does, with the same
// failed-login limit) and sets a session cookie (HttpOnly, SameSite=Strict,
// Secure when master.url is https); POST /logout ends the session.
#include "master/web/control_request.hpp"
#include "master/web/pages/pages.hpp"
#include "master/web/rest_common.hpp"
#include "master/web/web_auth.hpp"

namespace bb::web {

namespace {

// "/prefix/" of "https://host/prefix/": the cookie's Path.
std::string pathOf(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string cookie(const MasterConfig& cfg, const std::string& value, long maxAge) {
  std::string c = std::string(WebAuth::kSessionCookie) + "=" + value + "; Path=" + pathOf(cfg.master.url) +
                  "; Max-Age=" + std::to_string(maxAge) + "; HttpOnly; SameSite=Strict";
  if (cfg.master.url.rfind("https://", 0) == 0) c += "; Secure";
  return c;
}

// Only a path of this site: never an absolute URL or "//host".
std::string safeNext(const std::string& next, const std::string& dflt) {
  if (next.empty() || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))) return dflt;
  return next;
}

// The form, in the pages' layout.
HttpResponse form(const MasterConfig& cfg, const std::string& next, const std::string& message, int status) {
  const Site site{basePath(cfg.master.url), cfg.master.name, ""};
  return htmlResponse(renderPage("login", "Log in", Json{{"error", message}, {"next", next}}, site), status);
}

}  // namespace

void addLogin(Router& r, WebContext& ctx) {
  r.add("GET", "/login", [&ctx](HttpRequest& req, const PathParams&) {
    return form(ctx.config(), req.param("next"), "", 200);
  });
  r.add("POST", "/login", [&ctx](HttpRequest& req, const PathParams&) {
    const MasterConfig& cfg = ctx.config();
    if (!sameOrigin(req, cfg.master.url))
      throw HttpError(403, "the login form must be sent from this master's own page");
    const auto fields = parseQuery(req.body);
    auto field = [&](const char* k) {
      auto it = fields.find(k);
      return it == fields.end() ? std::string() : it->second;
    };
    const std::string next = safeNext(field("next"), pathOf(cfg.master.url));
    std::string token;
    try {
      token = ctx.auth.login(req, field("user"), field("password"));
    } catch (const HttpError& e) {
      return form(cfg, next, e.what(), e.status);
    }
    HttpResponse res = htmlResponse("<!DOCTYPE html><p>Logged in.</p>\n", 303);
    res.headers.emplace_back("Location", next);
    res.headers.emplace_back("Set-Cookie", cookie(cfg, token, 8 * 3600));
    return res;
  });
  r.add("POST", "/logout", [&ctx](HttpRequest& req, const PathParams&) {
    const MasterConfig& cfg = ctx.config();
    if (!sameOrigin(req, cfg.master.url)) throw HttpError(403, "logout must be sent from this master's own page");
    ctx.auth.logout(req);
    HttpResponse res = htmlResponse("<!DOCTYPE html><p>Logged out.</p>\n", 303);
    res.headers.emplace_back("Location", pathOf(cfg.master.url));
    res.headers.emplace_back("Set-Cookie", cookie(cfg, "", 0));
    return res;
  });
}

}  // namespace bb::web
