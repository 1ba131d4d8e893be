#pragma once
// Cron expressions (5 fields: minute hour day-of-month month day-of-week)
// and the next time one matches, in an IANA time zone.
//
// Field syntax: `*`, numbers, lists `1,5`, ranges `1-5`, steps `*/15` and
// `10-50/10` (and `5/15`, meaning `5-max/15`); months jan..dec and weekdays
// sun..sat by name (case-insensitive); 0 and 7 are both Sunday. When both
// day-of-month and day-of-week are restricted (neither starts with `*`),
// a day matches if EITHER matches (the classic cron rule).
//
// Daylight saving time follows cron (Vixie cron, cronie): when clocks go
// back and an hour repeats, a job whose minute or hour field starts with
// `*` (`* * * * *`, `0 * * * *`, `*/10 2 * * *`) fires by the wall clock
// in both passes of the hour; a fixed-time job (`30 2 * * *`) fires once,
// in the first. When clocks go forward, a matching local time that does
// not exist fires once, at the first instant after the gap.
//
// Time zones come from the system tz database through CCTZ; nothing here
// touches the process's TZ, so every function is safe from any thread.
#include <bitset>
#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
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

  // The first fire time strictly after `after`, in time zone `tz` ("UTC",
  // "Europe/Paris"), with the DST rules above. Throws CronError for an
  // unknown time zone.
  std::chrono::system_clock::time_point next(std::chrono::system_clock::time_point after,
                                             const std::string& tz) const;

  // The expression as given.
  const std::string& expression() const { return expr_; }

 private:
  bool dayMatches(int dayOfMonth, int weekday) const;
  // Calls visit(local) for each matching local time at or after
  // `fromLocal` (local times as seconds since 1970-01-01 00:00 local),
  // in order, until it returns false. Throws CronError after 400 years.
  void forEachMatch(std::int64_t fromLocal, const std::function<bool(std::int64_t)>& visit) const;

  std::string expr_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday .. 6
  bool domRestricted_ = false;
  bool dowRestricted_ = false;
  bool wildcardTime_ = false;  // minute or hour field starts with '*'
};

// An ISO 8601 time: "2024-10-27T02:30:00+02:00", "2024-10-27T00:30Z",
// fractional seconds allowed, a space for the 'T'; without an offset it is
// UTC. nullopt if it is none of these.
std::optional<std::chrono::system_clock::time_point> parseIsoTime(const std::string& text);

// `t` as local time in `tz`: "2024-10-27 02:30:00 CEST (+02:00)". Throws
// CronError for an unknown time zone.
std::string formatLocal(std::chrono::system_clock::time_point t, const std::string& tz);

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
