#include "master/schedulers/triggerable.hpp"

namespace bb {

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
