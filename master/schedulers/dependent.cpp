#include "master/schedulers/dependent.hpp"

#include <spdlog/spdlog.h>

#include "config/yaml_util.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

void DependentScheduler::declareType(SchedulerType& t) {
  t.config.keys = {"upstream"};
  t.config.check = [](const cfg::MapReader& r, cfg::MasterParse& p, SchedulerEntry& s) {
    auto up = r.string("upstream", true);
    if (!up) return false;
    if (*up == s.name) {
      r.error(r.markOf("upstream"), "a dependent scheduler cannot be its own upstream");
      return false;
    }
    p.refer(cfg::RefKind::Scheduler, *up, r.markOf("upstream"), r.what());
    p.upstreams[s.name] = {*up, r.markOf("upstream")};  // checked for cycles
    return true;
  };
}

void DependentScheduler::load() {
  upstream_ = cfg_.extra.value("upstream", std::string());
  auto st = ctx_.db.getState(stateObject(), "upstream");
  scanFrom_ = 1;
  handled_.clear();
  if (st && st->is_object() && st->value("name", std::string()) == upstream_) {
    scanFrom_ = st->value("scan_from", std::int64_t{1});
    for (const auto& id : st->value("handled", Json::array())) handled_.insert(id.get<std::int64_t>());
  } else if (!st) {
    // A new dependent scheduler reacts to upstream BuildSets from now on,
    // not to the whole history.
    if (auto last = ctx_.db.lastBuildsetId()) scanFrom_ = *last + 1;
  }
}

Json DependentScheduler::describe() const {
  // Before start() the config is what it will follow.
  return Json{{"upstream", upstream_.empty() ? cfg_.extra.value("upstream", std::string()) : upstream_},
              {"handled_up_to", scanFrom_}};
}

void DependentScheduler::save() {
  ctx_.db.setState(stateObject(), "upstream",
                   Json{{"name", upstream_}, {"scan_from", scanFrom_}, {"handled", handled_}});
}

void DependentScheduler::start() {
  load();
  save();
  EventFilter f;
  f.types = {EventType::BuildsetCompleted};
  f.scheduler = upstream_;
  f.otherMasters = true;  // the upstream BuildSet may complete on another master
  listen(f, [this](const Event& e) {
    if (auto bs = ctx_.db.getBuildset(e.buildsetId)) handle(*bs);
  });
  // Upstream BuildSets that completed while the master was down.
  std::int64_t firstOpen = 0, id = scanFrom_;
  for (;; ++id) {
    auto bs = ctx_.db.getBuildset(id);
    if (!bs) break;
    if (bs->scheduler != upstream_) continue;
    if (bs->complete) handle(*bs);
    else if (!firstOpen) firstOpen = id;
  }
  // Everything before the first still-open upstream BuildSet is done.
  const std::int64_t next = firstOpen ? firstOpen : id;
  handled_.erase(handled_.begin(), handled_.lower_bound(next));
  scanFrom_ = next;
  save();
}

Json DependentScheduler::changeState(const db::ChangeRecord&, const db::ChangeDecision*,
                                     const BuiltBy& built) const {
  const auto up = built.find(upstream_);
  if (up == built.end())
    return Json{{"state", "ignored"},
                {"reason", "upstream scheduler '" + upstream_ + "' did not build this change"}};
  const auto& last = up->second.back();
  if (!last.complete)
    return Json{{"state", "waiting"},
                {"reason", "waiting for upstream '" + upstream_ + "' buildset " + std::to_string(last.id)}};
  return Json{{"state", "ignored"},
              {"reason", "upstream '" + upstream_ + "' buildset " + std::to_string(last.id) + " ended " +
                             std::string(toString(last.result))}};
}

void DependentScheduler::handle(const db::BuildsetRecord& bs) {
  if (bs.id < scanFrom_ || handled_.count(bs.id)) return;
  ctx_.db.transaction([&] {
    if (bs.result == Result::Success || bs.result == Result::Warnings) {
      Json props = schedulerProperties();
      // Names the upstream BuildSet, so a download step's `builder:` finds
      // the upstream build of that builder (and %(prop:...)s can show it).
      props["upstream_buildset_id"] = Json::array({bs.id, "Dependent"});
      ctx_.buildsets.create(cfg_.name,
                            "upstream " + upstream_ + " buildset " + std::to_string(bs.id) + " " +
                                std::string(toString(bs.result)),
                            bs.sourcestamp, props, cfg_.builders, cfg_.priority);
    } else {
      spdlog::info("scheduler {}: upstream buildset {} ended {}; nothing to build", cfg_.name, bs.id,
                   toString(bs.result));
    }
    handled_.insert(bs.id);
    save();
  });
}

}  // namespace bb
