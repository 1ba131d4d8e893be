#include "master/schedulers/any_branch.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "config/yaml_util.hpp"
#include "master/schedulers/change_filter.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

void AnyBranchScheduler::declareType(SchedulerType& t) {
  t.config.keys = {"branches"};
  t.config.listensToChanges = [](const SchedulerEntry&) { return true; };
  t.config.check = [](const cfg::MapReader& r, cfg::MasterParse&, SchedulerEntry& s) {
    if (!r.has("branches")) return true;
    bool ok = true;
    if (r.has("branch") || r.has("branch_pattern")) {
      r.error(r.keyMarkOf("branches"),
              "branches and " + std::string(r.has("branch") ? "branch" : "branch_pattern") +
                  " both limit the branches; keep one (branch_pattern is the same as branches)");
      ok = false;
    }
    auto branches = r.stringList("branches");
    if (!branches) return false;
    if (branches->empty()) {
      r.error(r.markOf("branches"), "branches is empty; leave it out to build every branch");
      return false;
    }
    if (std::find(branches->begin(), branches->end(), "") != branches->end()) {
      r.error(r.markOf("branches"), "branches must not contain an empty pattern");
      return false;
    }
    // An older spelling of branch_pattern.
    if (s.changeFilter.branchPatterns.empty()) s.changeFilter.branchPatterns = *branches;
    return ok;
  };
}

AnyBranchScheduler::AnyBranchScheduler(SchedulerEntry cfg, SchedulerContext ctx)
    : Scheduler(std::move(cfg), ctx) {
  // The config loader already put `branches` into the filter; an entry built
  // in code may carry it only in extra. The loader checks the type; a bad
  // entry here is skipped, not fatal.
  if (!filter_.branchPatterns.empty()) return;
  if (auto it = cfg_.extra.find("branches"); it != cfg_.extra.end() && it->is_array())
    for (const auto& b : *it)
      if (b.is_string()) filter_.branchPatterns.push_back(b.get<std::string>());
}

std::vector<std::pair<std::string, std::string>> AnyBranchScheduler::pendingBranches() const {
  std::vector<Key> out;
  for (const auto& [key, p] : pending_) out.push_back(key);
  return out;
}

void AnyBranchScheduler::onMatchingChange(const db::ChangeRecord& change) {
  bool important = false;
  if (!classifyForTimer(change, important)) return;
  const Key key{change.repository, change.branch};
  auto it = pending_.find(key);
  // An unimportant change on a quiet branch only rides along later; it does
  // not start a timer (single_branch's rule, per branch).
  if (it == pending_.end()) it = pending_.emplace(key, Pending{}).first;
  Pending& p = it->second;
  p.changes.push_back(change.id);
  storePendingChange(change.id, Json{{"repository", key.first}, {"branch", key.second}});
  if (important || (p.timer && p.timer->pending())) {
    p.important = p.important || important;
    p.fireAtMs = wallMs(ctx_.clock) + cfg_.treeStableTimer * 1000LL;
    armTimer(key, p);
  }
  save();
  // Sent once the change's transaction commits.
  publishState(Json{{"repository", key.first},
                    {"branch", key.second},
                    {"held_change", change.id},
                    {"held_count", p.changes.size()},
                    {"stable_at", p.timer && p.timer->pending() ? Json(p.fireAtMs / 1000) : Json()}});
}

Json AnyBranchScheduler::describe() const {
  // Bounded like every scheduler's view: the first kBranchesListed
  // branches with the first few held ids each, and the totals.
  constexpr std::size_t kBranchesListed = 20, kIdsPerBranch = 10;
  Json branches = Json::array(), held = Json::array(), first = nullptr;
  std::size_t count = 0;
  for (const auto& [key, p] : pending_) {
    const bool running = p.timer && p.timer->pending();
    const Json at = running ? Json(p.fireAtMs / 1000) : Json();
    if (running && (first.is_null() || at < first)) first = at;
    count += p.changes.size();
    for (std::size_t i = 0; i < p.changes.size() && held.size() < kHeldListed; ++i)
      held.push_back(p.changes[i]);
    if (branches.size() < kBranchesListed)
      branches.push_back(Json{{"repository", key.first},
                              {"branch", key.second},
                              {"held_changes", heldView(p.changes, kIdsPerBranch)},
                              {"held_count", p.changes.size()},
                              {"important", p.important},
                              {"stable_at", at}});
  }
  return Json{{"tree_stable_timer", cfg_.treeStableTimer},
              {"stable_at", first},
              {"held_changes", held},
              {"held_count", count},
              {"branches", branches},
              {"branch_count", pending_.size()}};
}

void AnyBranchScheduler::start() {
  load();
  for (auto& [key, p] : pending_)
    if (p.important) armTimer(key, p);
}

void AnyBranchScheduler::stop() {
  for (auto& [key, p] : pending_)
    if (p.timer) p.timer->cancel();
}

void AnyBranchScheduler::load() {
  pending_.clear();
  // Each held change has a row naming its (repository, branch); older
  // list-style state is moved to rows by the schema upgrade to version 4.
  for (const auto& [id, info] : storedPendingChanges()) {
    if (!info.is_object()) continue;
    pending_[{info.value("repository", ""), info.value("branch", "")}].changes.push_back(id);
  }
  const auto st = ctx_.db.getState(stateObject(), "pending");
  if (!st || !st->is_array()) return;
  for (const auto& entry : *st) {
    if (!entry.is_object()) continue;
    auto it = pending_.find({entry.value("repository", ""), entry.value("branch", "")});
    if (it == pending_.end()) continue;  // its changes were built
    it->second.important = entry.value("important", false);
    it->second.fireAtMs = entry.value("fire_at_ms", std::int64_t{0});
  }
}

// Each branch's timer state; the held changes have a row each.
void AnyBranchScheduler::save() {
  Json all = Json::array();
  for (const auto& [key, p] : pending_)
    all.push_back(Json{{"repository", key.first},
                       {"branch", key.second},
                       {"important", p.important},
                       {"fire_at_ms", p.fireAtMs}});
  ctx_.db.setState(stateObject(), "pending", all);
}

void AnyBranchScheduler::armTimer(const Key& key, Pending& p) {
  if (!p.timer) p.timer = ctx_.clock.makeTimer();
  const std::int64_t wait = std::max<std::int64_t>(0, p.fireAtMs - wallMs(ctx_.clock));
  p.timer->start(std::chrono::milliseconds(wait),
                 guarded("the tree-stable timer of branch " + key.second, [this, key] { fire(key); }));
}

void AnyBranchScheduler::fire(const Key& key) {
  auto it = pending_.find(key);
  if (it == pending_.end() || it->second.changes.empty() || !it->second.important) return;
  // Taken out first so save() writes the state without it. `taken` owns
  // the timer whose callback this is; the clock has already moved the
  // callback out of it, so destroying it at the end is safe.
  Pending taken = std::move(it->second);
  pending_.erase(it);
  try {
    ctx_.db.transaction([&] {
      submitChanges(taken.changes);
      dropPendingChanges(taken.changes);
      save();
    });
    publishState(Json{{"repository", key.first},
                      {"branch", key.second},
                      {"released_changes", taken.changes.size()},
                      {"held_count", 0},
                      {"stable_at", nullptr}});
  } catch (const std::exception& e) {
    fail("building the held changes of branch " + key.second + " (retrying in " +
             std::to_string(cfg_.treeStableTimer) + " s)",
         e);
    Pending& back = pending_[key];
    back.changes = std::move(taken.changes);
    back.important = true;
    back.fireAtMs = wallMs(ctx_.clock) + cfg_.treeStableTimer * 1000LL;
    armTimer(key, back);
  }
}


}  // namespace bb
