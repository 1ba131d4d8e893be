#include "master/schedulers/triggerable.hpp"

#include "config/yaml_util.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

void TriggerableScheduler::declareType(SchedulerType& t) {
  t.config.triggerable = true;
  t.config.check = [](const cfg::MapReader& r, cfg::MasterParse&, SchedulerEntry&) {
    // It starts builds only from trigger steps, on the parent build's
    // source stamp: change keys would silently do nothing.
    bool ok = true;
    for (const char* key :
         {"branch", "tree_stable_timer", "files", "only_important", "change_sources"}) {
      if (!r.has(key)) continue;
      r.error(r.keyMarkOf(key), std::string(key) +
                                    " does nothing on a triggerable scheduler (it builds only "
                                    "when a trigger step asks, on the parent's source stamp); "
                                    "remove it");
      ok = false;
    }
    return ok;
  };
}

Json TriggerableScheduler::describe() const {
  return Json{{"builders", cfg_.builders}, {"started_by", "trigger steps"}};
}

NewBuildset TriggerableScheduler::trigger(const db::SourceStamp& ss, const Json& properties,
                                          std::int64_t parentBuildId,
                                          const std::string& parentName) {
  // What the trigger step sets wins over what the scheduler is configured
  // with, as in Buildbot.
  Json props = schedulerProperties();
  if (properties.is_object())
    for (auto it = properties.begin(); it != properties.end(); ++it) props[it.key()] = it.value();
  return ctx_.buildsets.create(cfg_.name, "triggered by " + parentName, ss, props, cfg_.builders,
                               cfg_.priority, parentBuildId);
}

}  // namespace bb
