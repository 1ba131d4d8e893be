#pragma once
// The live schedulers: made from the config, subscribed to the change bus,
// and on reconfig replaced only where their config changed (unchanged
// schedulers keep their timers and state).
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "master/db/records.hpp"
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
  // Stops every scheduler; those this master held in the database are
  // released (another master may take them). Returns how many were.
  int stopAll();

  // Several masters on one database: a scheduler that runs on one master
  // only (Scheduler::runsOnOneMaster) is claimed for `self` in the database
  // before it starts. One another master holds stays in standby (listed,
  // not started, not subscribed) until claimUnowned() gets it. Without
  // this call every scheduler runs here, as with one master.
  void shareWithOtherMasters(db::MasterId self) { self_ = self; }
  // Claims and starts the standby schedulers that no master holds now,
  // from their stored state; how many. A database failure is logged.
  int claimUnowned();
  // Several masters: every scheduler running here catches up on the
  // changes no master gave it (Scheduler::catchUpChanges); how many
  // changes were classified. A failure is logged per scheduler and tried
  // again at the next call. Called when a scheduler starts here, after the
  // listening session reconnects, and on the heartbeat timer.
  int catchUpChanges();
  // Whether the scheduler runs on this master (false: in standby).
  bool runsHere(const std::string& name) const { return !standby_.count(name); }

  Scheduler* find(const std::string& name) const;
  ForceScheduler* findForce(const std::string& name) const;
  // The triggerable scheduler `name` as configured now; nullptr if there is
  // none (a reconfig may have removed it since a build started).
  TriggerableScheduler* findTriggerable(const std::string& name) const;
  std::vector<Scheduler*> all() const;

 private:
  std::unique_ptr<Scheduler> make(const SchedulerEntry& e);
  // Claims the scheduler for this master when it must run on one master.
  bool claim(const Scheduler& s);
  void release(const Scheduler& s);
  void activate(Scheduler& s);
  int catchUp(Scheduler& s);
  SchedulerContext ctx_;
  ChangeBus& bus_;
  std::map<std::string, std::unique_ptr<Scheduler>> schedulers_;
  std::map<std::string, std::string> fingerprints_;
  std::optional<db::MasterId> self_;  // set: the database is shared
  std::set<std::string> standby_;     // held by another master
};

}  // namespace bb
