#pragma once
// periodic: a BuildSet (no changes) every `interval` seconds. The first
// comes as soon as the master starts; the last run time is kept in the
// database, so after a restart it waits only what is left of the interval,
// and if one or more whole intervals passed while the master was down it
// builds once at start (not once per missed interval).
#include <chrono>
#include <optional>

#include "common/cron.hpp"
#include "master/schedulers/scheduler.hpp"

namespace bb {

class PeriodicScheduler : public Scheduler {
 public:
  PeriodicScheduler(SchedulerEntry cfg, SchedulerContext ctx);
  // Builds at once if due (never run, or an interval has passed since the
  // stored last run), otherwise arms the alarm for the rest of the interval.
  void start() override;
  void stop() override;
  // extra["interval"] in seconds; nullopt (and an error logged at start)
  // if it is missing or not a positive integer.
  std::optional<std::chrono::seconds> interval() const { return interval_; }
  // When the next BuildSet is due, if the alarm is armed.
  std::optional<WallTime> nextRun() const;

 private:
  void fire();
  std::optional<std::chrono::seconds> interval_;
  WallAlarm alarm_;
};

}  // namespace bb
