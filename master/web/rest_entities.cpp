// GET /api/v2/workers (our slaves), schedulers, forceschedulers, masters
// and locks: views of live components and their rows.
#include <chrono>

#include "master/db/database.hpp"
#include "master/locks/lock_manager.hpp"
#include "master/schedulers/force.hpp"
#include "master/schedulers/scheduler_set.hpp"
#include "master/slaves/slave_registry.hpp"
#include "master/status/views.hpp"
#include "master/web/rest_common.hpp"

namespace bb::web {

namespace {

std::int64_t unixSeconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Json workerView(WebContext& ctx, const SlaveEntry& cfg) {
  Json out = slaveView(cfg, ctx.slaves);
  out["workerid"] = cfg.name;
  out["connected"] = out["state"] != "offline";
  out["paused"] = false;
  out["graceful"] = out["state"] == "draining";
  if (auto rec = ctx.db.getSlave(cfg.name)) {
    out["info"] = rec->info;
    out["last_seen"] = rec->lastSeen;
    out["last_connected"] = rec->lastConnected;
    out["last_disconnected"] = rec->lastDisconnected;
  } else {
    out["info"] = Json::object();
    out["last_seen"] = nullptr;
    out["last_connected"] = nullptr;
    out["last_disconnected"] = nullptr;
  }
  Json builders = Json::array();
  for (const auto& b : ctx.config().builders)
    for (const auto& s : b.slaves)
      if (s == cfg.name) builders.push_back(b.name);
  out["builders"] = std::move(builders);
  return out;
}

Json forceView(const Scheduler& s) {
  Json out = schedulerView(s);
  out["builder_names"] = s.config().builders;
  return out;
}

Json lockHolders(const std::vector<Holding>& hs) {
  Json out = Json::array();
  for (const auto& h : hs)
    out.push_back(Json{{"owner", h.owner}, {"mode", std::string(toString(h.mode))}, {"since", unixSeconds(h.since)}});
  return out;
}

}  // namespace

Json locksView(WebContext& ctx) {
  Json out = Json::array();
  std::map<std::string, Json> byName;
  for (const auto& l : ctx.config().locks)
    byName[l.name] = Json{{"name", l.name}, {"scope", l.scope}, {"max_count", l.maxCount},
                          {"instances", Json::array()}, {"waiting", Json::array()}};
  if (ctx.locks) {
    for (const auto& i : ctx.locks->instances()) {
      Json& l = byName[i.id.lock];
      if (l.is_null()) l = Json{{"name", i.id.lock}, {"scope", std::string(toString(i.scope))}, {"max_count", i.maxCount},
                                {"instances", Json::array()}, {"waiting", Json::array()}};
      l["instances"].push_back(Json{{"slave", i.id.slave}, {"max_count", i.maxCount}, {"retired", i.retired},
                                    {"holders", lockHolders(i.holders)}});
    }
    for (const auto& w : ctx.locks->waiting()) {
      Json wanted = Json::array();
      for (const auto& x : w.wanted)
        wanted.push_back(Json{{"lock", x.instance.lock}, {"slave", x.instance.slave},
                              {"mode", std::string(toString(x.mode))}});
      Json blocked = Json::array();
      for (const auto& b : w.blockedBy)
        blocked.push_back(Json{{"lock", toString(b.lock.instance)}, {"queued", b.queued}, {"owners", b.owners},
                               {"elsewhere", b.elsewhere}});
      Json entry{{"owner", w.owner}, {"slave", w.slave}, {"since", unixSeconds(w.since)},
                 {"wants", std::move(wanted)}, {"blocked_by", std::move(blocked)}};
      for (const auto& x : w.wanted) {
        Json& l = byName[x.instance.lock];
        if (l.is_object()) l["waiting"].push_back(entry);
      }
    }
    // Several masters on one database: the holds of the other masters
    // (master-scoped locks only; empty on a master alone).
    for (const auto& h : ctx.locks->holdersElsewhere()) {
      Json& l = byName[h.lock];
      if (!l.is_object()) continue;  // a lock this master's config does not have
      if (!l.contains("elsewhere")) l["elsewhere"] = Json::array();
      l["elsewhere"].push_back(Json{{"master", h.masterName}, {"owner", h.owner},
                                    {"mode", h.mode == db::LockHold::Exclusive ? "exclusive" : "counting"},
                                    {"since", h.since}});
    }
  }
  for (auto& [name, l] : byName) out.push_back(std::move(l));
  return out;
}

void addEntityRoutes(Router& r, WebContext& ctx) {
  auto get = [&r, &ctx](const std::string& path, std::function<HttpResponse(HttpRequest&, const PathParams&)> fn) {
    r.add("GET", path, [&ctx, fn = std::move(fn)](HttpRequest& req, const PathParams& p) {
      ctx.requireRead(req);
      return fn(req, p);
    });
  };
  get("/api/v2/workers", [&ctx](HttpRequest& req, const PathParams&) {
    Json out = Json::array();
    for (const auto& s : ctx.config().slaves) out.push_back(workerView(ctx, s));
    return listResponse(req, "workers", std::move(out));
  });
  get("/api/v2/workers/{name}", [&ctx](HttpRequest& req, const PathParams& p) {
    for (const auto& s : ctx.config().slaves)
      if (s.name == p.at("name")) return oneResponse(req, "workers", workerView(ctx, s));
    throw HttpError(404, "no slave named '" + p.at("name") + "'");
  });
  get("/api/v2/schedulers", [&ctx](HttpRequest& req, const PathParams&) {
    Json out = Json::array();
    for (const Scheduler* s : ctx.schedulers.all()) out.push_back(schedulerView(*s));
    return listResponse(req, "schedulers", std::move(out));
  });
  get("/api/v2/schedulers/{name}", [&ctx](HttpRequest& req, const PathParams& p) {
    const Scheduler* s = ctx.schedulers.find(p.at("name"));
    if (!s) throw HttpError(404, "no scheduler named '" + p.at("name") + "'");
    return oneResponse(req, "schedulers", schedulerView(*s));
  });
  get("/api/v2/forceschedulers", [&ctx](HttpRequest& req, const PathParams&) {
    Json out = Json::array();
    for (const Scheduler* s : ctx.schedulers.all())
      if (ctx.schedulers.findForce(s->name())) out.push_back(forceView(*s));
    return listResponse(req, "forceschedulers", std::move(out));
  });
  get("/api/v2/forceschedulers/{name}", [&ctx](HttpRequest& req, const PathParams& p) {
    const ForceScheduler* s = ctx.schedulers.findForce(p.at("name"));
    if (!s) throw HttpError(404, "no force scheduler named '" + p.at("name") + "'");
    return oneResponse(req, "forceschedulers", forceView(*s));
  });
  get("/api/v2/masters", [&ctx](HttpRequest& req, const PathParams&) {
    Json out = Json::array();
    for (const auto& m : ctx.db.masters())
      out.push_back(Json{{"masterid", m.id}, {"id", m.id}, {"name", m.name}, {"active", m.active},
                         {"started_at", m.startedAt}, {"last_active", m.lastHeartbeat}});
    return listResponse(req, "masters", std::move(out));
  });
  get("/api/v2/locks", [&ctx](HttpRequest& req, const PathParams&) {
    return listResponse(req, "locks", locksView(ctx));
  });
}

}  // namespace bb::web
