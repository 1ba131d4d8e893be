#pragma once
// triggerable: starts a BuildSet only when a running build's trigger step
// asks for one (master/process/steps/trigger_step.hpp). It listens to no changes
// and keeps no state.
#include <cstdint>
#include <string>

#include "master/schedulers/scheduler.hpp"

namespace bb {

class TriggerableScheduler : public Scheduler {
 public:
  bool runsOnOneMaster() const override { return false; }
  using Scheduler::Scheduler;
  // Trigger steps may start it; change keys are refused (they would do
  // nothing).
  static void declareType(SchedulerType& t);
  // Creates one BuildSet on this scheduler's builders and priority for `ss`,
  // with its configured properties overridden by `properties` ({name:
  // [value, source]} or plain values); the BuildSet names parentBuildId as
  // its parent and its reason is "triggered by <parentName>". Joins an open
  // transaction.
  NewBuildset trigger(const db::SourceStamp& ss, const Json& properties,
                      std::int64_t parentBuildId, const std::string& parentName);
  // {builders, started_by: "trigger steps"}.
  Json describe() const override;
};

}  // namespace bb
