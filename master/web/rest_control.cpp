// POST /api/v2/...: control in Buildbot's JSON-RPC shape
// ({"method": ..., "params": {...}, "id": ...}), each method one call of
// RpcHandler, which checks the user's `may` list exactly as for the
// `buildbot` client.
#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "master/status/rpc_handler.hpp"
#include "master/web/control_request.hpp"
#include "master/web/rest_common.hpp"
#include "master/web/web_auth.hpp"

namespace bb::web {

HttpError toHttpError(const RpcError& e) {
  int status = 500;
  if (e.code == "bad_request") status = 400;
  else if (e.code == "not_permitted") status = 403;
  else if (e.code == "not_found") status = 404;
  else if (e.code == "rejected") status = 409;
  std::string msg = e.what();
  for (const auto& d : e.details) msg += "; " + d;
  return HttpError(status, msg);
}

namespace {

// One RpcHandler call for the request's user, answered in JSON-RPC shape.
HttpResponse callRpc(WebContext& ctx, const ControlRequest& c, const std::string& method, const Json& params) {
  try {
    Json result = ctx.rpc.call(c.user, method, params);
    spdlog::info("web: {} by {}: {} {}", method, c.user, c.target, params.dump());
    return jsonResponse(Json{{"jsonrpc", "2.0"}, {"id", c.id}, {"result", std::move(result)}});
  } catch (const RpcError& e) {
    throw toHttpError(e);
  }
}

[[noreturn]] void unknownMethod(const ControlRequest& c, const char* known) {
  throw HttpError(400, "unknown method '" + c.method + "' for " + c.target + " (methods: " + known + ")");
}

}  // namespace

void addControlRoutes(Router& r, WebContext& ctx) {
  r.add("POST", "/api/v2/forceschedulers/{name}", [&ctx](HttpRequest& req, const PathParams& p) {
    const ControlRequest c = ControlRequest::decode(req, ctx);
    if (c.method != "force") unknownMethod(c, "force");
    Json params = c.params;
    // Buildbot's name for the builders to force.
    if (auto it = params.find("builderNames"); it != params.end()) {
      params["builders"] = *it;
      params.erase("builderNames");
    }
    params["scheduler"] = p.at("name");
    return callRpc(ctx, c, "force", params);
  });

  auto buildControl = [&ctx](const ControlRequest& c, const db::BuildRecord& b) {
    if (c.method == "stop") {
      Json params{{"builder", b.builder}, {"number", b.number}};
      if (auto it = c.params.find("reason"); it != c.params.end()) params["reason"] = *it;
      return callRpc(ctx, c, "stop_build", params);
    }
    if (c.method == "rebuild") {
      Json params{{"build_id", b.id}};
      if (auto it = c.params.find("reason"); it != c.params.end()) params["reason"] = *it;
      return callRpc(ctx, c, "rebuild", params);
    }
    unknownMethod(c, "stop, rebuild");
  };
  r.add("POST", "/api/v2/builds/{id}", [&ctx, buildControl](HttpRequest& req, const PathParams& p) {
    const ControlRequest c = ControlRequest::decode(req, ctx);
    auto b = ctx.db.getBuild(pathId(p, "id"));
    if (!b) throw HttpError(404, "no build with id " + p.at("id"));
    return buildControl(c, *b);
  });
  r.add("POST", "/api/v2/builders/{builder}/builds/{number}", [&ctx, buildControl](HttpRequest& req, const PathParams& p) {
    const ControlRequest c = ControlRequest::decode(req, ctx);
    auto b = ctx.db.getBuildByNumber(p.at("builder"), static_cast<int>(pathId(p, "number")));
    if (!b) throw HttpError(404, "builder '" + p.at("builder") + "' has no build #" + p.at("number"));
    return buildControl(c, *b);
  });

  r.add("POST", "/api/v2/buildrequests/{id}", [&ctx](HttpRequest& req, const PathParams& p) {
    const ControlRequest c = ControlRequest::decode(req, ctx);
    const std::int64_t id = pathId(p, "id");
    if (c.method == "cancel") return callRpc(ctx, c, "cancel", Json{{"request_id", id}});
    if (c.method == "set_priority" || c.method == "priority") {
      auto it = c.params.find("priority");
      if (it == c.params.end()) throw HttpError(400, "params.priority is required (a whole number)");
      return callRpc(ctx, c, "priority", Json{{"request_id", id}, {"priority", *it}});
    }
    unknownMethod(c, "cancel, set_priority");
  });

  // Buildbot's worker control: `stop` is its graceful stop (`kill` and
  // `pause` are not served).
  r.add("POST", "/api/v2/workers/{name}", [&ctx](HttpRequest& req, const PathParams& p) {
    const ControlRequest c = ControlRequest::decode(req, ctx);
    if (c.method != "stop") unknownMethod(c, "stop");
    Json params{{"slave", p.at("name")}};
    if (auto it = c.params.find("reason"); it != c.params.end()) params["reason"] = *it;
    return callRpc(ctx, c, "stop_slave", params);
  });
}

}  // namespace bb::web
