// GET /api/v2/...: the read API over builders, builds, steps, requests,
// BuildSets and changes (rest_entities.cpp has slaves, schedulers, masters
// and locks; rest_logs.cpp the logs).
#include <charconv>

#include "master/db/database.hpp"
#include "master/status/rpc_handler.hpp"
#include "master/web/rest_common.hpp"
#include "master/web/rest_views.hpp"
#include "master/web/router.hpp"

namespace bb::web {

std::int64_t pathId(const PathParams& p, const std::string& name) {
  const std::string& v = p.at(name);
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 1)
    throw HttpError(400, name + " must be a positive whole number, got '" + v + "'");
  return n;
}

ResourceQuery queryOf(const HttpRequest& req, const std::set<std::string>& reserved) {
  try {
    return ResourceQuery::parse(req.query, reserved);
  } catch (const QueryError& e) {
    throw HttpError(400, e.what());
  } catch (const HttpError&) {
    throw;
  }
}

HttpResponse listResponse(const HttpRequest& req, const std::string& name, Json items) {
  const ResourceQuery q = queryOf(req);
  try {
    return jsonResponse(listReply(name, q.apply(std::move(items))));
  } catch (const QueryError& e) {
    throw HttpError(400, e.what());
  }
}

HttpResponse oneResponse(const HttpRequest& req, const std::string& name, Json item) {
  return listResponse(req, name, Json::array({std::move(item)}));
}

namespace {

const BuilderEntry& builderOf(WebContext& ctx, const std::string& name) {
  const BuilderEntry* b = ctx.config().findBuilder(name);
  if (!b) throw HttpError(404, "no builder named '" + name + "'");
  return *b;
}

db::BuildRecord buildOf(WebContext& ctx, std::int64_t id) {
  auto b = ctx.db.getBuild(id);
  if (!b) throw HttpError(404, "no build with id " + std::to_string(id));
  return *b;
}

db::BuildRecord buildByNumber(WebContext& ctx, const PathParams& p) {
  auto b = ctx.db.getBuildByNumber(p.at("builder"), static_cast<int>(pathId(p, "number")));
  if (!b) throw HttpError(404, "builder '" + p.at("builder") + "' has no build #" + p.at("number"));
  return *b;
}

// A list of builds (of one builder when `builder` is not empty).
HttpResponse buildsOf(const HttpRequest& req, WebContext& ctx, const std::string& builder) {
  std::vector<db::ListCondition> fixed;
  if (!builder.empty()) fixed.push_back({"builder", db::ListOp::Eq, {builder}});
  return dbListResponse(
      req, ctx.db, "builds", db::ListTable::Builds,
      [&ctx](std::int64_t id) -> std::optional<Json> {
        auto b = ctx.db.getBuild(id);
        if (!b) return std::nullopt;
        return restBuild(ctx.db, *b);
      },
      std::move(fixed));
}

Json stepsOf(WebContext& ctx, std::int64_t buildId) {
  Json out = Json::array();
  for (const auto& s : ctx.db.stepsForBuild(buildId)) out.push_back(restStep(s));
  return out;
}

}  // namespace

void addReadRoutes(Router& r, WebContext& ctx) {
  auto get = [&r, &ctx](const std::string& path, std::function<HttpResponse(HttpRequest&, const PathParams&)> fn) {
    r.add("GET", path, [&ctx, fn = std::move(fn)](HttpRequest& req, const PathParams& p) {
      ctx.requireRead(req);
      return fn(req, p);
    });
  };

  get("/api/v2", [](HttpRequest&, const PathParams&) {
    return jsonResponse(Json{{"api", "v2"},
                             {"resources",
                              {"builders", "builds", "steps", "logs", "buildrequests", "buildsets", "changes",
                               "workers", "schedulers", "forceschedulers", "masters", "locks", "events", "stats"}}});
  });

  // --- builders ---
  get("/api/v2/builders", [&ctx](HttpRequest& req, const PathParams&) {
    Json out = Json::array();
    for (const auto& b : ctx.config().builders) out.push_back(restBuilder(b));
    return listResponse(req, "builders", std::move(out));
  });
  get("/api/v2/builders/{builder}", [&ctx](HttpRequest& req, const PathParams& p) {
    return oneResponse(req, "builders", restBuilder(builderOf(ctx, p.at("builder"))));
  });
  get("/api/v2/builders/{builder}/builds", [&ctx](HttpRequest& req, const PathParams& p) {
    const std::string name = p.at("builder");
    // A builder removed from the config still has its history.
    if (!ctx.config().findBuilder(name) && ctx.db.recentBuilds(1, name).empty())
      throw HttpError(404, "no builder named '" + name + "'");
    return buildsOf(req, ctx, name);
  });
  get("/api/v2/builders/{builder}/builds/{number}", [&ctx](HttpRequest& req, const PathParams& p) {
    return oneResponse(req, "builds", restBuildWithUrls(ctx.db, buildByNumber(ctx, p)));
  });
  get("/api/v2/builders/{builder}/builds/{number}/steps", [&ctx](HttpRequest& req, const PathParams& p) {
    return listResponse(req, "steps", stepsOf(ctx, buildByNumber(ctx, p).id));
  });

  // --- builds and steps ---
  get("/api/v2/builds", [&ctx](HttpRequest& req, const PathParams&) {
    return buildsOf(req, ctx, "");
  });
  get("/api/v2/builds/{id}", [&ctx](HttpRequest& req, const PathParams& p) {
    return oneResponse(req, "builds", restBuildWithUrls(ctx.db, buildOf(ctx, pathId(p, "id"))));
  });
  get("/api/v2/builds/{id}/steps", [&ctx](HttpRequest& req, const PathParams& p) {
    return listResponse(req, "steps", stepsOf(ctx, buildOf(ctx, pathId(p, "id")).id));
  });
  get("/api/v2/steps/{id}", [&ctx](HttpRequest& req, const PathParams& p) {
    auto s = ctx.db.getStep(pathId(p, "id"));
    if (!s) throw HttpError(404, "no step with id " + p.at("id"));
    return oneResponse(req, "steps", restStep(*s));
  });
  get("/api/v2/steps/{id}/logs", [&ctx](HttpRequest& req, const PathParams& p) {
    auto s = ctx.db.getStep(pathId(p, "id"));
    if (!s) throw HttpError(404, "no step with id " + p.at("id"));
    Json out = Json::array();
    for (const auto& l : ctx.db.logsForStep(s->id)) out.push_back(restLog(l));
    return listResponse(req, "logs", std::move(out));
  });

  // --- requests and BuildSets ---
  get("/api/v2/buildrequests", [&ctx](HttpRequest& req, const PathParams&) {
    return dbListResponse(req, ctx.db, "buildrequests", db::ListTable::BuildRequests,
                          [&ctx](std::int64_t id) -> std::optional<Json> {
                            auto rq = ctx.db.getRequest(id);
                            if (!rq) return std::nullopt;
                            return restRequest(*rq);
                          });
  });
  get("/api/v2/buildrequests/{id}", [&ctx](HttpRequest& req, const PathParams& p) {
    auto rq = ctx.db.getRequest(pathId(p, "id"));
    if (!rq) throw HttpError(404, "no build request with id " + p.at("id"));
    Json out = restRequest(*rq);
    Json builds = Json::array();
    for (const auto& b : ctx.db.buildsForRequest(rq->id)) builds.push_back(restBuild(ctx.db, b));
    out["builds"] = std::move(builds);
    return oneResponse(req, "buildrequests", std::move(out));
  });
  get("/api/v2/buildsets", [&ctx](HttpRequest& req, const PathParams&) {
    return dbListResponse(req, ctx.db, "buildsets", db::ListTable::Buildsets,
                          [&ctx](std::int64_t id) -> std::optional<Json> {
                            auto bs = ctx.db.getBuildset(id);
                            if (!bs) return std::nullopt;
                            return restBuildset(*bs);
                          });
  });
  get("/api/v2/buildsets/{id}", [&ctx](HttpRequest& req, const PathParams& p) {
    auto bs = ctx.db.getBuildset(pathId(p, "id"));
    if (!bs) throw HttpError(404, "no buildset with id " + p.at("id"));
    Json out = restBuildset(*bs);
    Json reqs = Json::array();
    for (const auto& rq : ctx.db.requestsForBuildset(bs->id)) reqs.push_back(restRequest(rq));
    out["buildrequests"] = std::move(reqs);
    std::int64_t bytes = 0;
    if (auto patch = ctx.db.getBuildsetPatchInfo(bs->id, &bytes))
      out["patch"] = Json{{"level", patch->level}, {"author", patch->who}, {"comment", patch->comment},
                          {"job_id", patch->jobId}, {"bytes", bytes}};
    return oneResponse(req, "buildsets", std::move(out));
  });
  // A try BuildSet's patch, as sent (a download).
  get("/api/v2/buildsets/{id}/patch", [&ctx](HttpRequest&, const PathParams& p) {
    auto patch = ctx.db.getBuildsetPatch(pathId(p, "id"));
    if (!patch) throw HttpError(404, "buildset " + p.at("id") + " has no patch (it is not a try build)");
    HttpResponse res;
    res.contentType = "text/x-diff";
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"buildset-" + p.at("id") + ".patch\"");
    res.body = std::move(patch->body);
    return res;
  });

  // --- changes ---
  get("/api/v2/changes", [&ctx](HttpRequest& req, const PathParams&) {
    return dbListResponse(req, ctx.db, "changes", db::ListTable::Changes,
                          [&ctx](std::int64_t id) -> std::optional<Json> {
                            auto c = ctx.db.getChange(id);
                            if (!c) return std::nullopt;
                            return restChange(*c);
                          });
  });
  get("/api/v2/changes/{id}", [&ctx](HttpRequest& req, const PathParams& p) {
    auto c = ctx.db.getChange(pathId(p, "id"));
    if (!c) throw HttpError(404, "no change with id " + p.at("id"));
    return oneResponse(req, "changes", restChange(*c));
  });
  // The weekly build statistics (RpcHandler::stats): ?since=UNIX seconds,
  // ?steps=true for the per-step figures too.
  auto stats = [&ctx](HttpRequest& req, const std::string& builder) {
    Json params = Json::object();
    if (!builder.empty()) params["builder"] = builder;
    if (const std::string since = req.param("since"); !since.empty()) {
      std::int64_t t = 0;
      const auto [end, ec] = std::from_chars(since.data(), since.data() + since.size(), t);
      if (ec != std::errc() || end != since.data() + since.size() || t < 0)
        throw HttpError(400, "since must be a UNIX time in seconds, got '" + since + "'");
      params["since"] = t;
    }
    if (const std::string steps = req.param("steps"); !steps.empty()) {
      if (steps != "true" && steps != "false" && steps != "1" && steps != "0")
        throw HttpError(400, "steps must be true or false, got '" + steps + "'");
      params["steps"] = steps == "true" || steps == "1";
    }
    try {
      return jsonResponse(ctx.rpc.read("stats", params));
    } catch (const RpcError& e) {
      throw toHttpError(e);
    }
  };
  get("/api/v2/stats", [stats](HttpRequest& req, const PathParams&) { return stats(req, ""); });
  get("/api/v2/builders/{builder}/stats",
      [stats](HttpRequest& req, const PathParams& p) { return stats(req, p.at("builder")); });
  get("/api/v2/changes/{id}/status", [&ctx](HttpRequest&, const PathParams& p) {
    try {
      return jsonResponse(ctx.rpc.read("change_status", Json{{"change_id", pathId(p, "id")}}));
    } catch (const RpcError& e) {
      throw toHttpError(e);
    }
  });
}

}  // namespace bb::web
