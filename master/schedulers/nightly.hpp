#pragma once
// nightly: builds at the times a cron expression gives (extra["cron"]), in
// extra["timezone"] (default "UTC"). Without extra["only_if_changed"] it
// does not listen to changes and always builds (branch from `branch`).
// With it, changes that pass the change filter (`branch` and the rest) are
// recorded in the database, and a fire builds only if one of them is
// important; the build takes every held change. A fire without an
// important change builds nothing and keeps the unimportant ones held for
// the next build (Buildbot's rule). Changes still held when a reconfig
// turns only_if_changed off go with its next build. The last fire time is stored: if a
// scheduled time passed while the master was down, it builds once at
// start (not once per missed time) and then follows the schedule.
#include <optional>
#include <string>
#include <vector>

#include "common/cron.hpp"
#include "master/schedulers/scheduler.hpp"

namespace bb {

class NightlyScheduler : public Scheduler {
 public:
  // A bad cron or time zone does not throw here: start() logs it and the
  // scheduler never fires (validate() is for checkconfig).
  NightlyScheduler(SchedulerEntry cfg, SchedulerContext ctx);
  // Its own keys cron (required), timezone and only_if_changed (then it
  // listens to changes); lists its next fire times.
  static void declareType(SchedulerType& t);
  // Throws CronError if cron, timezone or only_if_changed in `cfg` is bad.
  static void validate(const SchedulerEntry& cfg);
  // The next `n` fire times after `from` of the nightly entry `cfg`; throws
  // CronError if its config is bad.
  static std::vector<WallTime> fireTimes(const SchedulerEntry& cfg, WallTime from, int n);
  // Its time zone (extra["timezone"], default "UTC").
  static std::string timeZoneOf(const SchedulerEntry& cfg);

  bool subscribesToChanges() const override { return onlyIfChanged_; }
  void start() override;
  void stop() override;
  // When it fires next, if started with a valid config.
  std::optional<WallTime> nextFire() const;
  // {cron, only_if_changed, next_fire_at, next_fire_local (in its time
  // zone), timezone, held_changes (the oldest kHeldListed), held_count,
  // important, config_error?}.
  Json describe() const override;

 protected:
  void onMatchingChange(const db::ChangeRecord& change) override;
  std::string waitingReason() const override { return "built at the next scheduled time"; }

 private:
  void onAlarm();
  void fire();
  void armNext(WallTime after);
  // The slot as local time in its time zone, for log lines.
  std::string slotText(WallTime slot) const;
  void load();
  void save();

  std::optional<CronSchedule> cron_;
  std::string timezone_ = "UTC";
  bool onlyIfChanged_ = false;
  std::string configError_;
  std::vector<std::int64_t> pending_;  // only_if_changed: changes since the last fire
  bool pendingImportant_ = false;
  WallAlarm alarm_;
};

}  // namespace bb
