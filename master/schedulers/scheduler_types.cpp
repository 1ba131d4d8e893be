// The scheduler types: one line each. A type's file fills its entry in
// its static declareType(SchedulerType&) (Scheduler's adds nothing).
#include "master/schedulers/any_branch.hpp"
#include "master/schedulers/dependent.hpp"
#include "master/schedulers/force.hpp"
#include "master/schedulers/nightly.hpp"
#include "master/schedulers/periodic.hpp"
#include "master/schedulers/scheduler_type.hpp"
#include "master/schedulers/single_branch.hpp"
#include "master/schedulers/triggerable.hpp"
#include "master/schedulers/try_jobdir.hpp"
#include "master/schedulers/try_userpass.hpp"

namespace bb {

namespace {

template <class T>
SchedulerType schedulerType(const char* name) {
  SchedulerType t;
  t.config.name = name;
  t.make = [](const SchedulerEntry& e, SchedulerContext ctx) -> std::unique_ptr<Scheduler> {
    return std::make_unique<T>(e, ctx);
  };
  T::declareType(t);
  return t;
}

}  // namespace

const std::vector<SchedulerType>& schedulerTypes() {
  static const std::vector<SchedulerType> types{
      schedulerType<SingleBranchScheduler>("single_branch"),
      schedulerType<AnyBranchScheduler>("any_branch"),
      schedulerType<ForceScheduler>("force"),
      schedulerType<PeriodicScheduler>("periodic"),
      schedulerType<NightlyScheduler>("nightly"),
      schedulerType<DependentScheduler>("dependent"),
      schedulerType<TriggerableScheduler>("triggerable"),
      schedulerType<TryJobdirScheduler>("try_jobdir"),
      schedulerType<TryUserpassScheduler>("try_userpass"),
  };
  return types;
}

const SchedulerType* findSchedulerType(const std::string& name) {
  for (const auto& t : schedulerTypes())
    if (t.name() == name) return &t;
  return nullptr;
}

}  // namespace bb
