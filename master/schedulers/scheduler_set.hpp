#pragma once
// The live schedulers: made from the config, subscribed to the change bus,
// and on reconfig replaced only where their config changed (unchanged
// schedulers keep their timers and state).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "master/schedulers/scheduler.hpp"

namespace bb {

class ForceScheduler;
class TriggerableScheduler;

class SchedulerSet {
 public:
  SchedulerSet(SchedulerContext ctx, ChangeBus& bus) : ctx_(ctx), bus_(bus) {}
  ~SchedulerSet();

  // Types this master can run; checkconfig and reconfig refuse others.
  static bool isImplemented(const std::string& type);
  // What the master checks beyond config/ (the type is implemented, its
  // own SchedulerType::check): the problem, or "" if none.
  static std::string check(const SchedulerEntry& e);
  // Applies `entries`: removed and changed schedulers are stopped, new and
  // changed ones created and started.
  void configure(const std::vector<SchedulerEntry>& entries);
  void stopAll();

  Scheduler* find(const std::string& name) const;
  ForceScheduler* findForce(const std::string& name) const;
  // The triggerable scheduler `name` as configured now; nullptr if there is
  // none (a reconfig may have removed it since a build started).
  TriggerableScheduler* findTriggerable(const std::string& name) const;
  std::vector<Scheduler*> all() const;

 private:
  std::unique_ptr<Scheduler> make(const SchedulerEntry& e);
  SchedulerContext ctx_;
  ChangeBus& bus_;
  std::map<std::string, std::unique_ptr<Scheduler>> schedulers_;
  std::map<std::string, std::string> fingerprints_;
};

}  // namespace bb
