#pragma once
// single_branch: changes on one branch (`branch`, or those matching
// `branch_pattern`, taken as one line of development) that pass the change
// filter. Without a tree-stable timer each important change gets its own
// BuildSet. With one, an important change
// (re)starts the timer, an unimportant one restarts it only while it
// runs, and when it fires every change classified since goes into one
// BuildSet. Pending changes and the deadline survive a restart.
#include <memory>
#include <vector>

#include "master/schedulers/scheduler.hpp"

namespace bb {

class SingleBranchScheduler : public Scheduler {
 public:
  using Scheduler::Scheduler;
  // Listens to changes; `branch` (or branch_pattern) is required.
  static void declareType(SchedulerType& t);
  bool subscribesToChanges() const override { return true; }
  bool runsOnOneMaster() const override { return runsOnOneMasterForTimer(); }
  void start() override;
  void stop() override;
  // {tree_stable_timer (s), stable_at (unix seconds when the timer fires,
  // null if it is not running), held_changes: [the oldest kHeldListed
  // change ids], held_count, important}.
  Json describe() const override;

 protected:
  void onMatchingChange(const db::ChangeRecord& change) override;

 private:
  void load();
  void save();
  void save(bool important, std::int64_t fireAtMs);
  void armTimer();
  // The timer fired: one BuildSet for the held changes. If that fails, the
  // error is recorded and the changes stay held for another timer period.
  void fire();

  std::vector<std::int64_t> pending_;
  bool pendingImportant_ = false;
  std::int64_t fireAtMs_ = 0;  // wall clock, ms since epoch
  std::unique_ptr<Timer> timer_;
};

}  // namespace bb
