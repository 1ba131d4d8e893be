#include "master/schedulers/dependent.hpp"

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"

namespace bb {

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
      const Json props = schedulerProperties();
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
