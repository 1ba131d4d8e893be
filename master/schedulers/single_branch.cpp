#include "master/schedulers/single_branch.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "config/yaml_util.hpp"
#include "master/schedulers/change_filter.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

void SingleBranchScheduler::declareType(SchedulerType& t) {
  t.config.listensToChanges = [](const SchedulerEntry&) { return true; };
  t.config.check = [](const cfg::MapReader& r, cfg::MasterParse&, SchedulerEntry& s) {
    if (s.branch || r.has("branch_pattern")) return true;
    if (!r.has("branch"))
      r.error(r.mark(), "missing required key 'branch' (or branch_pattern, for several branches)");
    return false;
  };
}

void SingleBranchScheduler::onMatchingChange(const db::ChangeRecord& change) {
  bool important = false;
  if (!classifyForTimer(change, important)) return;
  pending_.push_back(change.id);
  storePendingChange(change.id, Json::object());
  if (important) {
    pendingImportant_ = true;
    fireAtMs_ = wallMs(ctx_.clock) + cfg_.treeStableTimer * 1000LL;
    armTimer();
  } else if (timer_ && timer_->pending()) {
    fireAtMs_ = wallMs(ctx_.clock) + cfg_.treeStableTimer * 1000LL;
    armTimer();
  }
  save();
  // Sent once the change's transaction commits.
  publishState(Json{{"held_change", change.id},
                    {"held_count", pending_.size()},
                    {"stable_at", timer_ && timer_->pending() ? Json(fireAtMs_ / 1000) : Json()}});
}

Json SingleBranchScheduler::describe() const {
  const bool running = timer_ && timer_->pending();
  return Json{{"tree_stable_timer", cfg_.treeStableTimer},
              {"stable_at", running ? Json(fireAtMs_ / 1000) : Json()},
              {"held_changes", heldView(pending_)},
              {"held_count", pending_.size()},
              {"important", pendingImportant_}};
}

void SingleBranchScheduler::start() {
  load();
  if (pendingImportant_) armTimer();
}

void SingleBranchScheduler::stop() {
  if (timer_) timer_->cancel();
}

void SingleBranchScheduler::load() {
  auto st = ctx_.db.getState(stateObject(), "pending");
  pending_.clear();
  pendingImportant_ = false;
  fireAtMs_ = 0;
  // Each held change has a row (older list-style state is moved to rows by
  // the schema upgrade to version 4).
  for (const auto& [id, info] : storedPendingChanges()) pending_.push_back(id);
  if (!st || !st->is_object()) return;
  pendingImportant_ = st->value("important", false);
  fireAtMs_ = st->value("fire_at_ms", std::int64_t{0});
}

// The timer's state; the held changes have a row each (storePendingChange).
void SingleBranchScheduler::save() { save(pendingImportant_, fireAtMs_); }

void SingleBranchScheduler::save(bool important, std::int64_t fireAtMs) {
  ctx_.db.setState(stateObject(), "pending", Json{{"important", important}, {"fire_at_ms", fireAtMs}});
}

void SingleBranchScheduler::armTimer() {
  if (!timer_) timer_ = ctx_.clock.makeTimer();
  const std::int64_t wait = std::max<std::int64_t>(0, fireAtMs_ - wallMs(ctx_.clock));
  timer_->start(std::chrono::milliseconds(wait), guarded("the tree-stable timer", [this] { fire(); }));
}

void SingleBranchScheduler::fire() {
  if (pending_.empty() || !pendingImportant_) return;
  auto ids = pending_;
  try {
    ctx_.db.transaction([&] {
      submitChanges(ids);
      dropPendingChanges(ids);
      save(false, 0);
    });
  } catch (const std::exception& e) {
    // Nothing was written: the changes stay held, and the timer tries
    // again one period later.
    fail("building the held changes", e);
    fireAtMs_ = wallMs(ctx_.clock) + cfg_.treeStableTimer * 1000LL;
    armTimer();
    try {
      save();
    } catch (const std::exception&) {
      // The stored deadline is older; a restart fires at once, which is fine.
    }
    return;
  }
  pending_.clear();
  pendingImportant_ = false;
  fireAtMs_ = 0;
  publishState(Json{{"released_changes", ids.size()}, {"held_count", 0}, {"stable_at", nullptr}});
}


}  // namespace bb
