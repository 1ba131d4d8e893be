#pragma once
// A scheduler type as the master registers it: the name and config check
// (SchedulerKind, for the config loader), the factory, what the master
// checks beyond the config, and what checkconfig prints of its next fire
// times. The types are listed, one line each, in scheduler_types.cpp; each
// type fills its entry in its own file (its static declareType). A
// scheduler describes its own state for status with describe().
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config_kinds.hpp"
#include "master/schedulers/fire_times.hpp"
#include "master/schedulers/scheduler.hpp"

namespace bb {

struct SchedulerType {
  SchedulerKind config;  // name, own keys and their checks
  // Makes a scheduler of this type; empty for a type this master does not
  // implement yet (checkconfig and reconfig refuse it).
  std::function<std::unique_ptr<Scheduler>(const SchedulerEntry&, SchedulerContext)> make;
  // What the master checks beyond the config kind: the problem, or "".
  std::function<std::string(const SchedulerEntry&)> check;
  // checkconfig's lines for its next `n` fire times from `from` ("" or
  // empty: it has none); see describeNextFires().
  std::function<std::string(const SchedulerEntry&, WallTime from, int n, const LastRunLookup&)>
      nextFires;
  const std::string& name() const { return config.name; }
};

// Every scheduler type, in the order messages list them (scheduler_types.cpp).
const std::vector<SchedulerType>& schedulerTypes();
// The type named `name`, or nullptr.
const SchedulerType* findSchedulerType(const std::string& name);

}  // namespace bb
