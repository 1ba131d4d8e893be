// The HTML pages' routes (master/web/pages/) and their static files.
// Every page answers 404 with a plain page for what does not exist, and
// reading follows the same rule as the API (requireRead). Who is logged in
// (a session cookie from /login, or HTTP Basic) decides which forms show.
#include <charconv>

#include "master/status/rpc_handler.hpp"
#include "master/web/pages/pages.hpp"
#include "master/web/router.hpp"
#include "master/web/web_auth.hpp"
#include "master/web/web_context.hpp"

namespace bb::web {

namespace {

std::int64_t number(const std::string& s, const char* what) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0)
    throw HttpError(404, std::string(what) + " '" + s + "' is not a number");
  return v;
}

}  // namespace

void addPageRoutes(Router& r, WebContext& ctx, Pages& pages) {
  auto site = [&ctx](const HttpRequest& req) {
    const auto& m = ctx.config().master;
    return Site{basePath(m.url), m.name, req.user};
  };
  auto canControl = [&ctx](const HttpRequest& req) {
    const UserEntry* u = req.user.empty() ? nullptr : ctx.config().findUser(req.user);
    return u && u->mayDo("force");
  };
  // A page handler: reading allowed, PageNotFound as 404.
  auto page = [&ctx](std::function<std::string(HttpRequest&, const PathParams&)> fn) {
    return [&ctx, fn = std::move(fn)](HttpRequest& req, const PathParams& p) {
      ctx.requireRead(req);
      if (req.user.empty()) req.user = ctx.auth.authenticate(req);
      try {
        return htmlResponse(fn(req, p));
      } catch (const PageNotFound& e) {
        throw HttpError(404, e.what());
      } catch (const RpcError& e) {
        throw toHttpError(e);
      }
    };
  };
  r.add("GET", "/", page([=, &pages](HttpRequest& req, const PathParams&) { return pages.front(site(req)); }));
  r.add("GET", "/waterfall", page([=, &pages](HttpRequest& req, const PathParams&) {
          return pages.waterfall(site(req), 20);
        }));
  r.add("GET", "/console", page([=, &pages](HttpRequest& req, const PathParams&) {
          return pages.console(site(req), 30);
        }));
  r.add("GET", "/builders/{name}", page([=, &pages](HttpRequest& req, const PathParams& p) {
          return pages.builder(site(req), p.at("name"), canControl(req));
        }));
  r.add("GET", "/builders/{name}/builds/{number}", page([=, &pages](HttpRequest& req, const PathParams& p) {
          return pages.build(site(req), p.at("name"), static_cast<int>(number(p.at("number"), "build")),
                             canControl(req));
        }));
  r.add("GET", "/builders/{name}/builds/{number}/steps/{step}/logs/{log}",
        page([=, &pages](HttpRequest& req, const PathParams& p) {
          const std::string off = req.param("offset");
          const std::int64_t offset = off.empty() ? 0 : off == "last" ? -1 : number(off, "offset");
          return pages.log(site(req), p.at("name"), static_cast<int>(number(p.at("number"), "build")),
                           static_cast<int>(number(p.at("step"), "step")), p.at("log"), offset);
        }));
  r.add("GET", "/logs/{id}/tail", [&ctx, &pages](HttpRequest& req, const PathParams& p) {
    ctx.requireRead(req);
    try {
      const std::string off = req.param("offset");
      return jsonResponse(pages.logTail(number(p.at("id"), "log"), off.empty() ? 0 : number(off, "offset")));
    } catch (const PageNotFound& e) {
      throw HttpError(404, e.what());
    }
  });
  r.add("GET", "/changes", page([=, &pages](HttpRequest& req, const PathParams&) { return pages.changes(site(req)); }));
  r.add("GET", "/changes/{id}", page([=, &pages](HttpRequest& req, const PathParams& p) {
          return pages.change(site(req), number(p.at("id"), "change"));
        }));
  r.add("GET", "/buildsets", page([=, &pages](HttpRequest& req, const PathParams&) { return pages.buildsets(site(req)); }));
  r.add("GET", "/buildsets/{id}", page([=, &pages](HttpRequest& req, const PathParams& p) {
          return pages.buildset(site(req), number(p.at("id"), "BuildSet"));
        }));
  r.add("GET", "/requests", page([=, &pages](HttpRequest& req, const PathParams&) {
          return pages.requests(site(req), canControl(req));
        }));
  auto canStopSlaves = [&ctx](const HttpRequest& req) {
    const UserEntry* u = req.user.empty() ? nullptr : ctx.config().findUser(req.user);
    return u && u->mayDo("stop_slave");
  };
  r.add("GET", "/slaves", page([=, &pages](HttpRequest& req, const PathParams&) {
          return pages.slaves(site(req), canStopSlaves(req));
        }));
  r.add("GET", "/locks", page([=, &ctx, &pages](HttpRequest& req, const PathParams&) {
    return pages.locks(site(req), locksView(ctx));
  }));
  r.add("GET", "/stats", page([=, &pages](HttpRequest& req, const PathParams&) {
          return pages.stats(site(req), req.param("builder"));
        }));
  r.add("GET", "/schedulers", page([=, &pages](HttpRequest& req, const PathParams&) { return pages.schedulers(site(req)); }));
  r.add("GET", "/schedulers/timeline", page([=, &pages](HttpRequest& req, const PathParams&) {
          return pages.schedulerTimeline(site(req), 300);
        }));
  r.add("GET", "/static/{file}", [](HttpRequest& req, const PathParams& p) {
    const std::string& f = p.at("file");
    const std::string_view body = staticFile(f);
    if (body.empty()) throw HttpError(404, "no static file named '" + f + "'");
    HttpResponse res;
    res.body = std::string(body);
    res.contentType = f.ends_with(".css") ? "text/css; charset=utf-8"
                      : f.ends_with(".js") ? "text/javascript; charset=utf-8"
                                           : "application/octet-stream";
    res.headers.emplace_back("Cache-Control", "max-age=300");
    return res;
  });

}

}  // namespace bb::web
