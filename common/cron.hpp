#pragma once
// Cron expressions (5 fields: minute hour day-of-month month day-of-week)
// and the next time one matches, in an IANA time zone.
//
// Field syntax: `*`, numbers, lists `1,5`, ranges `1-5`, steps `*/15` and
// `10-50/10` (and `5/15`, meaning `5-max/15`); months jan..dec and weekdays
// sun..sat by name (case-insensitive); 0 and 7 are both Sunday. When both
// day-of-month and day-of-week are restricted (neither starts with `*`),
// a day matches if EITHER matches (the classic cron rule).
#include <bitset>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/event_loop.hpp"

namespace bb {

struct CronError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CronSchedule {
 public:
  // Parses `expr`; throws CronError naming the bad field and why
  // ("cron day-of-month field '0': 0 is out of range 1-31").
  static CronSchedule parse(const std::string& expr);

  // The first whole minute strictly after `after` that matches, in time
  // zone `tz` ("UTC", "Europe/Paris"). Across DST: a matching local time
  // that does not exist (spring forward) fires at the first minute after
  // the gap; a local time that occurs twice (fall back) fires only at its
  // first occurrence. Throws CronError for an unknown time zone.
  // Not thread-safe for zones other than UTC (see cron.cpp): call it from
  // the master's thread only.
  std::chrono::system_clock::time_point next(std::chrono::system_clock::time_point after,
                                             const std::string& tz) const;

  // The expression as given.
  const std::string& expression() const { return expr_; }

 private:
  bool dayMatches(int dayOfMonth, int weekday) const;

  std::string expr_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday .. 6
  bool domRestricted_ = false;
  bool dowRestricted_ = false;
};

// Throws CronError unless `tz` names a time zone this host knows ("UTC" or
// a file of the tz database, e.g. "Europe/Paris").
void checkTimeZone(const std::string& tz);

// A one-shot alarm at a wall-clock time, for the timed schedulers. Timers
// run on the steady clock, so it wakes at least every kMaxWait to notice
// the wall clock being set forward or back, and fires only once the wall
// clock has reached `when`.
class WallAlarm {
 public:
  static constexpr std::chrono::minutes kMaxWait{60};
  explicit WallAlarm(Clock& clock) : clock_(clock) {}
  // Runs fn once the wall clock reaches `when` (at once if it has);
  // replaces any pending alarm.
  void at(WallTime when, std::function<void()> fn);
  void cancel();
  bool pending() const { return timer_ && timer_->pending(); }
  WallTime when() const { return when_; }

 private:
  void arm();
  Clock& clock_;
  std::unique_ptr<Timer> timer_;
  WallTime when_{};
  std::function<void()> fn_;
};

}  // namespace bb
