#pragma once
// periodic: a BuildSet (no changes) every `interval` seconds. The first
// comes as soon as the master starts; the last run time is kept in the
// database, so after a restart it waits only what is left of the interval,
// and if one or more whole intervals passed while the master was down it
// builds once at start (not once per missed interval). Runs are planned
// `interval` apart (from the first run's planned time), not from when the
// previous one actually fired, so the schedule does not drift.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/cron.hpp"
#include "master/schedulers/scheduler.hpp"

namespace bb {

class PeriodicScheduler : public Scheduler {
 public:
  PeriodicScheduler(SchedulerEntry cfg, SchedulerContext ctx);
  // Its own key `interval` (required); lists its planned runs.
  static void declareType(SchedulerType& t);
  // Builds at once if due (never run, or an interval has passed since the
  // stored last run), otherwise arms the alarm for the rest of the interval.
  void start() override;
  void stop() override;
  // extra["interval"] in seconds; nullopt (and an error logged at start)
  // if it is missing or not a positive integer.
  std::optional<std::chrono::seconds> interval() const { return interval_; }
  // When the next BuildSet is due, if the alarm is armed.
  std::optional<WallTime> nextRun() const;
  // {interval (s), next_fire_at, next_fire_local, timezone: "UTC"}.
  Json describe() const override;

  // extra["interval"] of `cfg`, if it is a positive integer.
  static std::optional<std::chrono::seconds> intervalOf(const SchedulerEntry& cfg);
  // The last run recorded in `db` for the periodic scheduler `name`.
  static std::optional<WallTime> storedLastRun(db::Database& db, const std::string& name);
  // The next `n` runs of a periodic scheduler that starts at `from` with
  // `lastRun` recorded (nullopt: never ran), as start() and the alarms plan
  // them: the first may be `from` itself (a build at start).
  static std::vector<WallTime> plannedRuns(std::chrono::seconds interval,
                                           std::optional<WallTime> lastRun, WallTime from, int n);

 private:
  // Builds for the run planned at `planned` and arms the next one.
  void fire(WallTime planned);
  // Arms the alarm for the run planned at `planned` and announces it.
  void arm(WallTime planned);
  WallAlarm alarm_;
  std::optional<std::chrono::seconds> interval_;
};

}  // namespace bb
