#pragma once
// any_branch: like single_branch, but for every branch at once, each
// (repository, branch) on its own. Without a tree-stable timer each
// important change gets its own BuildSet; with one, every (repository,
// branch) has its own timer and pending changes, with single_branch's
// rules. The change filter limits what it looks at; extra["branches"]
// (glob patterns, see globMatch) is an older spelling of its branch
// patterns. Pending changes and deadlines survive a restart.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "master/schedulers/scheduler.hpp"

namespace bb {

class AnyBranchScheduler : public Scheduler {
 public:
  AnyBranchScheduler(SchedulerEntry cfg, SchedulerContext ctx);
  // Listens to changes; its own key `branches` (glob patterns).
  static void declareType(SchedulerType& t);
  bool subscribesToChanges() const override { return true; }
  bool runsOnOneMaster() const override { return runsOnOneMasterForTimer(); }
  void start() override;
  void stop() override;
  // {tree_stable_timer, stable_at (the earliest running timer, null if
  // none), held_changes (the oldest kHeldListed), held_count, branches:
  // [{repository, branch, held_changes, held_count, important, stable_at}]
  // (the first 20), branch_count}.
  Json describe() const override;

  // (repository, branch) pairs that have changes waiting for their timer.
  std::vector<std::pair<std::string, std::string>> pendingBranches() const;

 private:
  void onMatchingChange(const db::ChangeRecord& change) override;

  using Key = std::pair<std::string, std::string>;  // repository, branch
  struct Pending {
    std::vector<std::int64_t> changes;
    bool important = false;
    std::int64_t fireAtMs = 0;  // wall clock, ms since epoch
    std::unique_ptr<Timer> timer;
  };
  void load();
  void save();
  void armTimer(const Key& key, Pending& p);
  void fire(const Key& key);

  std::map<Key, Pending> pending_;
};

}  // namespace bb
