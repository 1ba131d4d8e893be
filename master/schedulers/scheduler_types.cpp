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
SchedulerType type(const char* name) {
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
      type<SingleBranchScheduler>("single_branch"),
      type<AnyBranchScheduler>("any_branch"),
      type<ForceScheduler>("force"),
      type<PeriodicScheduler>("periodic"),
      type<NightlyScheduler>("nightly"),
      type<DependentScheduler>("dependent"),
      type<TriggerableScheduler>("triggerable"),
      type<TryJobdirScheduler>("try_jobdir"),
      type<TryUserpassScheduler>("try_userpass"),
  };
  return types;
}

const SchedulerType* findSchedulerType(const std::string& name) {
  for (const auto& t : schedulerTypes())
    if (t.name() == name) return &t;
  return nullptr;
}

}  // namespace bb
