// Cron expressions: parsing (and every kind of error), next() over month
// ends, leap years, the day-of-month/day-of-week rule, names, steps, and
// time zones across both DST changes in Europe/Paris.
#include "common/cron.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <string>

namespace bb {
namespace {

using namespace std::chrono;
using TimePoint = system_clock::time_point;

TimePoint cronUtc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s);
}

std::string show(TimePoint t) {
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss hms(secs - day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02ld:%02ld:%02ld", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), long(hms.hours().count()),
                long(hms.minutes().count()), long(hms.seconds().count()));
  return buf;
}

// The next `n` fire times after `from`, each one after the previous.
std::vector<std::string> fires(const std::string& expr, TimePoint from, int n,
                               const std::string& tz = "UTC") {
  const auto cron = CronSchedule::parse(expr);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    from = cron.next(from, tz);
    out.push_back(show(from));
  }
  return out;
}

std::string parseError(const std::string& expr) {
  try {
    CronSchedule::parse(expr);
  } catch (const CronError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CronTest, EveryFifteenMinutes) {
  EXPECT_EQ(fires("*/15 * * * *", cronUtc(2024, 1, 1, 10, 7), 3),
            (std::vector<std::string>{"2024-01-01 10:15:00", "2024-01-01 10:30:00",
                                      "2024-01-01 10:45:00"}));
}

TEST(CronTest, NextIsStrictlyAfterAndOnWholeMinutes) {
  const auto c = CronSchedule::parse("* * * * *");
  EXPECT_EQ(show(c.next(cronUtc(2024, 1, 1, 10, 7), "UTC")), "2024-01-01 10:08:00");
  EXPECT_EQ(show(c.next(cronUtc(2024, 1, 1, 10, 7, 59), "UTC")), "2024-01-01 10:08:00");
  EXPECT_EQ(show(c.next(cronUtc(2024, 1, 1, 23, 59, 30), "UTC")), "2024-01-02 00:00:00");
}

TEST(CronTest, RangesWithStepsAndStartWithStep) {
  EXPECT_EQ(fires("10-50/20 * * * *", cronUtc(2024, 1, 1, 10, 0), 4),
            (std::vector<std::string>{"2024-01-01 10:10:00", "2024-01-01 10:30:00",
                                      "2024-01-01 10:50:00", "2024-01-01 11:10:00"}));
  EXPECT_EQ(fires("5/20 * * * *", cronUtc(2024, 1, 1, 10, 0), 4),
            (std::vector<std::string>{"2024-01-01 10:05:00", "2024-01-01 10:25:00",
                                      "2024-01-01 10:45:00", "2024-01-01 11:05:00"}));
  EXPECT_EQ(fires("0 1,5-6 * * *", cronUtc(2024, 1, 1, 2, 0), 4),
            (std::vector<std::string>{"2024-01-01 05:00:00", "2024-01-01 06:00:00",
                                      "2024-01-02 01:00:00", "2024-01-02 05:00:00"}));
}

TEST(CronTest, AcrossMonthAndYearEnds) {
  EXPECT_EQ(fires("0 0 1 * *", cronUtc(2024, 1, 31, 12, 0), 2),
            (std::vector<std::string>{"2024-02-01 00:00:00", "2024-03-01 00:00:00"}));
  EXPECT_EQ(fires("30 23 31 * *", cronUtc(2024, 4, 1, 0, 0), 3),  // skips 30-day months
            (std::vector<std::string>{"2024-05-31 23:30:00", "2024-07-31 23:30:00",
                                      "2024-08-31 23:30:00"}));
  EXPECT_EQ(fires("0 0 1 1 *", cronUtc(2024, 6, 1, 0, 0), 1),
            (std::vector<std::string>{"2025-01-01 00:00:00"}));
}

TEST(CronTest, LeapYears) {
  EXPECT_EQ(fires("0 12 29 2 *", cronUtc(2023, 3, 1, 0, 0), 3),
            (std::vector<std::string>{"2024-02-29 12:00:00", "2028-02-29 12:00:00",
                                      "2032-02-29 12:00:00"}));
  // 2100 is not a leap year.
  EXPECT_EQ(fires("0 0 29 2 *", cronUtc(2096, 3, 1, 0, 0), 1),
            (std::vector<std::string>{"2104-02-29 00:00:00"}));
}

TEST(CronTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // 2024-01-05 and 12 are Fridays; the 13th is a Saturday.
  EXPECT_EQ(fires("0 0 13 * fri", cronUtc(2024, 1, 1, 0, 0), 4),
            (std::vector<std::string>{"2024-01-05 00:00:00", "2024-01-12 00:00:00",
                                      "2024-01-13 00:00:00", "2024-01-19 00:00:00"}));
  // Only the weekday restricted: the day-of-month `*` does not add days.
  EXPECT_EQ(fires("0 0 * * fri", cronUtc(2024, 1, 1, 0, 0), 2),
            (std::vector<std::string>{"2024-01-05 00:00:00", "2024-01-12 00:00:00"}));
  // A `*/2` day-of-month counts as unrestricted, so both must match:
  // odd days that are Mondays (Jan 1, 15, 29).
  EXPECT_EQ(fires("0 0 */2 * mon", cronUtc(2023, 12, 31, 0, 0), 3),
            (std::vector<std::string>{"2024-01-01 00:00:00", "2024-01-15 00:00:00",
                                      "2024-01-29 00:00:00"}));
}

TEST(CronTest, NamesAreCaseInsensitiveAndSundayIsZeroOrSeven) {
  EXPECT_EQ(fires("0 9 * FEB-mar Mon-Fri", cronUtc(2024, 1, 20, 0, 0), 2),
            (std::vector<std::string>{"2024-02-01 09:00:00", "2024-02-02 09:00:00"}));
  // 2024-01-07 is a Sunday.
  EXPECT_EQ(fires("0 0 * * 7", cronUtc(2024, 1, 1, 0, 0), 1), fires("0 0 * * 0", cronUtc(2024, 1, 1, 0, 0), 1));
  EXPECT_EQ(fires("0 0 * * SUN", cronUtc(2024, 1, 1, 0, 0), 1),
            (std::vector<std::string>{"2024-01-07 00:00:00"}));
  EXPECT_EQ(fires("0 0 * * 5-7", cronUtc(2024, 1, 1, 0, 0), 3),
            (std::vector<std::string>{"2024-01-05 00:00:00", "2024-01-06 00:00:00",
                                      "2024-01-07 00:00:00"}));
}

TEST(CronTest, EveryErrorNamesItsField) {
  EXPECT_NE(parseError("0 3 * *").find("must have 5 fields"), std::string::npos);
  EXPECT_NE(parseError("0 3 * * * *").find("got 6"), std::string::npos);
  EXPECT_EQ(parseError("60 * * * *"), "cron minute field '60': 60 is out of range 0-59");
  EXPECT_EQ(parseError("0 24 * * *"), "cron hour field '24': 24 is out of range 0-23");
  EXPECT_EQ(parseError("0 0 0 * *"), "cron day-of-month field '0': 0 is out of range 1-31");
  EXPECT_EQ(parseError("0 0 * 13 *"), "cron month field '13': 13 is out of range 1-12");
  EXPECT_EQ(parseError("0 0 * * 8"), "cron day-of-week field '8': 8 is out of range 0-7");
  EXPECT_EQ(parseError("0 0 * * 99999"), "cron day-of-week field '99999': 99999 is out of range 0-7");
  EXPECT_EQ(parseError("0 0 * foo *"),
            "cron month field 'foo': 'foo' is neither a number nor a name (jan..dec)");
  EXPECT_EQ(parseError("0 0 * * monday"),
            "cron day-of-week field 'monday': 'monday' is neither a number nor a name (sun..sat)");
  EXPECT_EQ(parseError("x * * * *"), "cron minute field 'x': 'x' is not a number");
  EXPECT_EQ(parseError("1,,2 * * * *"), "cron minute field '1,,2': empty list item");
  EXPECT_EQ(parseError("0 5-1 * * *"),
            "cron hour field '5-1': range 5-1 is backwards (write the smaller value first)");
  EXPECT_EQ(parseError("*/0 * * * *"), "cron minute field '*/0': step must not be 0");
  EXPECT_EQ(parseError("*/x * * * *"), "cron minute field '*/x': step 'x' must be a positive number");
  EXPECT_EQ(parseError("1- * * * *"), "cron minute field '1-': a value is missing");
  EXPECT_NE(parseError("0 0 30 feb *").find("never matches"), std::string::npos);
  EXPECT_EQ(parseError("0 0 29 feb *"), "(no error)");  // leap years
  EXPECT_EQ(parseError("0 0 30 feb mon"), "(no error)");  // Mondays in February
}

TEST(CronTest, TimeZoneShiftsTheFireTime) {
  // Paris is UTC+1 in winter and UTC+2 in summer.
  EXPECT_EQ(fires("0 3 * * *", cronUtc(2024, 1, 10, 12, 0), 1, "Europe/Paris"),
            (std::vector<std::string>{"2024-01-11 02:00:00"}));
  EXPECT_EQ(fires("0 3 * * *", cronUtc(2024, 7, 10, 12, 0), 1, "Europe/Paris"),
            (std::vector<std::string>{"2024-07-11 01:00:00"}));
  // The day is the local day: 23:30 UTC on a Sunday is Monday in Tokyo.
  EXPECT_EQ(fires("30 8 * * mon", cronUtc(2024, 1, 6, 0, 0), 1, "Asia/Tokyo"),
            (std::vector<std::string>{"2024-01-07 23:30:00"}));
}

TEST(CronTest, SpringForwardGapFiresAtTheFirstMinuteAfterIt) {
  // 2024-03-31 in Paris: 02:00 CET becomes 03:00 CEST (01:00 UTC), so 02:30
  // does not exist; it fires at 03:00 CEST and at 02:30 CEST the day after.
  EXPECT_EQ(fires("30 2 * * *", cronUtc(2024, 3, 30, 12, 0), 2, "Europe/Paris"),
            (std::vector<std::string>{"2024-03-31 01:00:00", "2024-04-01 00:30:00"}));
  // Every quarter of the missing hour collapses into one fire.
  EXPECT_EQ(fires("*/15 2 * * *", cronUtc(2024, 3, 30, 12, 0), 2, "Europe/Paris"),
            (std::vector<std::string>{"2024-03-31 01:00:00", "2024-04-01 00:00:00"}));
  // Times around the gap are unaffected.
  EXPECT_EQ(fires("0 1,3 31 3 *", cronUtc(2024, 3, 30, 12, 0), 2, "Europe/Paris"),
            (std::vector<std::string>{"2024-03-31 00:00:00", "2024-03-31 01:00:00"}));
}

TEST(CronTest, FallBackFixedTimeFiresOnce) {
  // 2024-10-27 in Paris: 03:00 CEST becomes 02:00 CET (01:00 UTC), so 02:30
  // happens twice (00:30 and 01:30 UTC); a fixed-time job fires at the first only.
  EXPECT_EQ(fires("30 2 * * *", cronUtc(2024, 10, 26, 12, 0), 2, "Europe/Paris"),
            (std::vector<std::string>{"2024-10-27 00:30:00", "2024-10-28 01:30:00"}));
  // Asked from inside the second pass of the hour, 02:30 has already happened.
  EXPECT_EQ(fires("30 2 * * *", cronUtc(2024, 10, 27, 1, 10), 1, "Europe/Paris"),
            (std::vector<std::string>{"2024-10-28 01:30:00"}));
}

// Europe/Berlin, 2024: clocks go forward on 31 March at 02:00 CET (01:00
// UTC) to 03:00 CEST, and back on 27 October at 03:00 CEST (01:00 UTC) to
// 02:00 CET. Cron's rule: a job whose minute or hour field is a wildcard
// fires by the wall clock through the repeated hour; a fixed-time job once.
TEST(CronTest, BerlinFallBackWildcardJobsKeepFiringThroughTheRepeatedHour) {
  const std::string tz = "Europe/Berlin";
  // Hourly: 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET.
  EXPECT_EQ(fires("0 * * * *", cronUtc(2024, 10, 26, 22, 30), 4, tz),
            (std::vector<std::string>{"2024-10-26 23:00:00", "2024-10-27 00:00:00",
                                      "2024-10-27 01:00:00", "2024-10-27 02:00:00"}));
  // Every minute: 02:59 CEST is followed by 02:00 CET, one real minute later.
  EXPECT_EQ(fires("* * * * *", cronUtc(2024, 10, 27, 0, 58), 3, tz),
            (std::vector<std::string>{"2024-10-27 00:59:00", "2024-10-27 01:00:00",
                                      "2024-10-27 01:01:00"}));
  // A wildcard minute in a fixed hour repeats too (cron looks at both fields).
  EXPECT_EQ(fires("*/30 2 * * *", cronUtc(2024, 10, 26, 12, 0), 5, tz),
            (std::vector<std::string>{"2024-10-27 00:00:00", "2024-10-27 00:30:00",
                                      "2024-10-27 01:00:00", "2024-10-27 01:30:00",
                                      "2024-10-28 01:00:00"}));
  // From inside the first pass: 02:50 CEST comes before 02:05 CET.
  EXPECT_EQ(fires("50 * * * *", cronUtc(2024, 10, 27, 0, 45), 1, tz),
            (std::vector<std::string>{"2024-10-27 00:50:00"}));
  EXPECT_EQ(fires("5 * * * *", cronUtc(2024, 10, 27, 0, 45), 2, tz),
            (std::vector<std::string>{"2024-10-27 01:05:00", "2024-10-27 02:05:00"}));
  // From inside the second pass.
  EXPECT_EQ(fires("0 * * * *", cronUtc(2024, 10, 27, 1, 10), 1, tz),
            (std::vector<std::string>{"2024-10-27 02:00:00"}));
}

TEST(CronTest, BerlinFallBackFixedTimeJobsFireOnce) {
  EXPECT_EQ(fires("30 2 * * *", cronUtc(2024, 10, 26, 12, 0), 2, "Europe/Berlin"),
            (std::vector<std::string>{"2024-10-27 00:30:00", "2024-10-28 01:30:00"}));
  EXPECT_EQ(fires("0 2 * * *", cronUtc(2024, 10, 26, 12, 0), 2, "Europe/Berlin"),
            (std::vector<std::string>{"2024-10-27 00:00:00", "2024-10-28 01:00:00"}));
}

TEST(CronTest, BerlinSpringForwardSkippedTimesFireOnceAtTheFirstValidMinute) {
  const std::string tz = "Europe/Berlin";
  EXPECT_EQ(fires("30 2 * * *", cronUtc(2024, 3, 30, 12, 0), 2, tz),
            (std::vector<std::string>{"2024-03-31 01:00:00", "2024-04-01 00:30:00"}));
  // Hourly: 01:00 CET, then 03:00 CEST (02:00 does not exist), 04:00 CEST.
  EXPECT_EQ(fires("0 * * * *", cronUtc(2024, 3, 30, 23, 30), 3, tz),
            (std::vector<std::string>{"2024-03-31 00:00:00", "2024-03-31 01:00:00",
                                      "2024-03-31 02:00:00"}));
  // Every minute: 01:59 CET, then 03:00 CEST, once.
  EXPECT_EQ(fires("* * * * *", cronUtc(2024, 3, 31, 0, 58), 3, tz),
            (std::vector<std::string>{"2024-03-31 00:59:00", "2024-03-31 01:00:00",
                                      "2024-03-31 01:01:00"}));
}

TEST(CronTest, UnknownTimeZonesAreErrors) {
  const auto c = CronSchedule::parse("0 3 * * *");
  EXPECT_THROW(c.next(cronUtc(2024, 1, 1, 0, 0), "Mars/Olympus_Mons"), CronError);
  EXPECT_THROW(c.next(cronUtc(2024, 1, 1, 0, 0), "../../etc/passwd"), CronError);
  EXPECT_THROW(checkTimeZone("/etc/localtime"), CronError);
  EXPECT_THROW(checkTimeZone("Europe"), CronError);  // a directory, not a zone
  EXPECT_NO_THROW(checkTimeZone("UTC"));
  EXPECT_NO_THROW(checkTimeZone("America/New_York"));
  try {
    checkTimeZone("Mars/Olympus_Mons");
    FAIL() << "expected CronError";
  } catch (const CronError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown time zone 'Mars/Olympus_Mons'"), std::string::npos);
  }
}

TEST(CronTest, LeavesTheProcessTimeZoneAlone) {
  ASSERT_EQ(setenv("TZ", "Asia/Tokyo", 1), 0);
  CronSchedule::parse("0 3 * * *").next(cronUtc(2024, 1, 1, 0, 0), "Europe/Paris");
  ASSERT_NE(std::getenv("TZ"), nullptr);
  EXPECT_STREQ(std::getenv("TZ"), "Asia/Tokyo");
  ASSERT_EQ(unsetenv("TZ"), 0);
}

TEST(CronTest, SafeFromSeveralThreadsAtOnce) {
  // The master's git workers fork while schedulers compute fire times, and
  // other threads may read local time: nothing may swap the process's time
  // zone under them. Two threads ask for different zones at once; each must
  // get its own zone's answer every time (with a process-wide TZ they race).
  const auto cron = CronSchedule::parse("0 3 * * *");
  const auto from = cronUtc(2024, 1, 10, 12, 0);
  const auto paris = cron.next(from, "Europe/Paris");
  const auto york = cron.next(from, "America/New_York");
  ASSERT_EQ(show(paris), "2024-01-11 02:00:00");
  ASSERT_EQ(show(york), "2024-01-11 08:00:00");
  std::atomic<int> wrong{0};
  auto loop = [&](const std::string& tz, TimePoint want) {
    for (int i = 0; i < 3000; ++i)
      if (cron.next(from, tz) != want) ++wrong;
  };
  std::thread other(loop, "America/New_York", york);
  loop("Europe/Paris", paris);
  other.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(CronTest, FormatsLocalTimeWithTheZonesAbbreviation) {
  EXPECT_EQ(formatLocal(cronUtc(2024, 10, 27, 0, 30), "Europe/Berlin"),
            "2024-10-27 02:30:00 CEST (+02:00)");
  EXPECT_EQ(formatLocal(cronUtc(2024, 10, 27, 1, 30), "Europe/Berlin"),
            "2024-10-27 02:30:00 CET (+01:00)");
  EXPECT_EQ(formatLocal(cronUtc(2024, 10, 27, 1, 30), "UTC"), "2024-10-27 01:30:00 UTC (+00:00)");
}

}  // namespace
}  // namespace bb
