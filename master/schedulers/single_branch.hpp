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
  bool subscribesToChanges() const override { return true; }
  void start() override;
  void stop() override;

 protected:
  void onMatchingChange(const db::ChangeRecord& change) override;

 private:
  void load();
  void save();
  void armTimer();
  void fire();

  std::vector<std::int64_t> pending_;
  bool pendingImportant_ = false;
  std::int64_t fireAtMs_ = 0;  // wall clock, ms since epoch
  std::unique_ptr<Timer> timer_;
};

}  // namespace bb
