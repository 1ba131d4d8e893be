#pragma once
// dependent: when a BuildSet of its upstream scheduler completes with
// SUCCESS or WARNINGS, starts a BuildSet on the same source stamp for its
// own builders; does nothing on any other result. Which upstream BuildSets
// it has handled is stored, so upstream BuildSets that completed while the
// master was down are handled on start, and none is handled twice.
#include <cstdint>
#include <set>

#include "master/schedulers/scheduler.hpp"

namespace bb {

class DependentScheduler : public Scheduler {
 public:
  using Scheduler::Scheduler;
  // Its own key `upstream` (required, a scheduler, not itself).
  static void declareType(SchedulerType& t);
  void start() override;

  const std::string& upstream() const { return upstream_; }
  // {upstream, handled_up_to: every upstream BuildSet below this id is handled}.
  Json describe() const override;
  // Waiting while the upstream BuildSet that took the change runs; ignored
  // when upstream did not build it or it did not succeed.
  Json changeState(const db::ChangeRecord& change, const db::ChangeDecision* decision,
                   const BuiltBy& built) const override;

 private:
  void load();
  void save();
  // Handles `bs` if it is an upstream BuildSet not handled yet.
  void handle(const db::BuildsetRecord& bs);
  std::string upstream_;
  // Every upstream BuildSet with id < scanFrom_ is handled; handled_ holds
  // the handled ones >= scanFrom_ (trimmed at each start).
  std::int64_t scanFrom_ = 1;
  std::set<std::int64_t> handled_;
};

}  // namespace bb
