#include "master/schedulers/single_branch.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "master/schedulers/change_filter.hpp"

namespace bb {

namespace {
std::int64_t wallMs(Clock& c) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(c.wallNow().time_since_epoch())
      .count();
}
}  // namespace

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
void SingleBranchScheduler::save() {
  ctx_.db.setState(stateObject(), "pending",
                   Json{{"important", pendingImportant_}, {"fire_at_ms", fireAtMs_}});
}

void SingleBranchScheduler::armTimer() {
  if (!timer_) timer_ = ctx_.clock.makeTimer();
  const std::int64_t wait = std::max<std::int64_t>(0, fireAtMs_ - wallMs(ctx_.clock));
  timer_->start(std::chrono::milliseconds(wait), [this] { fire(); });
}

void SingleBranchScheduler::fire() {
  if (pending_.empty() || !pendingImportant_) return;
  auto ids = pending_;
  ctx_.db.transaction([&] {
    submitChanges(ids);
    dropPendingChanges(ids);
    pending_.clear();
    pendingImportant_ = false;
    fireAtMs_ = 0;
    save();
  });
}


}  // namespace bb
