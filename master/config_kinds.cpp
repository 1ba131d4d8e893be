#include "master/config_kinds.hpp"

#include "master/changes/change_source.hpp"
#include "master/locks/lock.hpp"
#include "master/process/step.hpp"
#include "master/reporters/reporter.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

const ConfigKinds& masterConfigKinds() {
  static const ConfigKinds kinds = [] {
    ConfigKinds k;
    for (const auto& t : schedulerTypes()) k.schedulers.push_back(t.config);
    for (const auto& t : stepTypes()) k.steps.push_back(t.config);
    for (const auto& t : changeSourceTypes()) k.changeSources.push_back(t.config);
    for (const auto& t : reporterTypes()) k.reporters.push_back(t.config);
    k.lockAccess = lockAccessNames();
    return k;
  }();
  return kinds;
}

}  // namespace bb
