// What `buildmaster checkconfig` prints about the next fire times of the
// timed schedulers, across both daylight-saving changes of Europe/Berlin
// in 2024 (forward on 31 March, back on 27 October), from fixed times.
#include "master/schedulers/fire_times.hpp"

#include <gtest/gtest.h>

#include "common/cron.hpp"
#include "master/schedulers/periodic.hpp"

namespace bb {
namespace {

WallTime at(const std::string& iso) {
  auto t = parseIsoTime(iso);
  if (!t) throw std::runtime_error("bad time in test: " + iso);
  return *t;
}

SchedulerEntry nightly(const std::string& name, const std::string& cron, const std::string& tz) {
  SchedulerEntry e;
  e.name = name;
  e.type = "nightly";
  e.builders = {"b"};
  e.extra = Json{{"cron", cron}, {"timezone", tz}};
  return e;
}

SchedulerEntry periodic(const std::string& name, int interval) {
  SchedulerEntry e;
  e.name = name;
  e.type = "periodic";
  e.builders = {"b"};
  e.extra = Json{{"interval", interval}};
  return e;
}

TEST(FireTimes, AcrossTheAutumnChangeTheRepeatedHourIsShownWithItsOffset) {
  const std::string out =
      describeNextFires({nightly("hourly", "0 * * * *", "Europe/Berlin"),
                         nightly("night", "30 2 * * *", "Europe/Berlin")},
                        at("2024-10-27T01:30:00+02:00"), 4, nullptr);
  EXPECT_EQ(out,
            "next 4 fire times from 2024-10-26 23:30:00 UTC:\n"
            "  nightly 'hourly' (cron \"0 * * * *\", Europe/Berlin):\n"
            "    2024-10-27 02:00:00 CEST (+02:00) = 2024-10-27 00:00:00 UTC\n"
            "    2024-10-27 02:00:00 CET (+01:00) = 2024-10-27 01:00:00 UTC\n"
            "    2024-10-27 03:00:00 CET (+01:00) = 2024-10-27 02:00:00 UTC\n"
            "    2024-10-27 04:00:00 CET (+01:00) = 2024-10-27 03:00:00 UTC\n"
            "  nightly 'night' (cron \"30 2 * * *\", Europe/Berlin):\n"
            "    2024-10-27 02:30:00 CEST (+02:00) = 2024-10-27 00:30:00 UTC\n"
            "    2024-10-28 02:30:00 CET (+01:00) = 2024-10-28 01:30:00 UTC\n"
            "    2024-10-29 02:30:00 CET (+01:00) = 2024-10-29 01:30:00 UTC\n"
            "    2024-10-30 02:30:00 CET (+01:00) = 2024-10-30 01:30:00 UTC\n");
}

TEST(FireTimes, AcrossTheSpringChangeTheSkippedTimeFiresAfterTheGap) {
  const std::string out = describeNextFires({nightly("night", "30 2 * * *", "Europe/Berlin")},
                                            at("2024-03-30T12:00Z"), 2, nullptr);
  EXPECT_EQ(out,
            "next 2 fire times from 2024-03-30 12:00:00 UTC:\n"
            "  nightly 'night' (cron \"30 2 * * *\", Europe/Berlin):\n"
            "    2024-03-31 03:00:00 CEST (+02:00) = 2024-03-31 01:00:00 UTC\n"
            "    2024-04-01 02:30:00 CEST (+02:00) = 2024-04-01 00:30:00 UTC\n");
}

TEST(FireTimes, PeriodicCountsFromItsLastRunOrBuildsAtStart) {
  const auto from = at("2024-10-27T00:30:00Z");
  auto lastRun = [](const std::string& name) -> std::optional<WallTime> {
    if (name == "seen") return at("2024-10-27T00:10:00Z");
    return std::nullopt;
  };
  const std::string out =
      describeNextFires({periodic("fresh", 3600), periodic("seen", 3600)}, from, 3, lastRun);
  EXPECT_EQ(out,
            "next 3 fire times from 2024-10-27 00:30:00 UTC:\n"
            "  periodic 'fresh' (every 3600 s, no run recorded):\n"
            "    2024-10-27 00:30:00 UTC (at start)\n"
            "    2024-10-27 01:30:00 UTC\n"
            "    2024-10-27 02:30:00 UTC\n"
            "  periodic 'seen' (every 3600 s, last run 2024-10-27 00:10:00 UTC):\n"
            "    2024-10-27 01:10:00 UTC\n"
            "    2024-10-27 02:10:00 UTC\n"
            "    2024-10-27 03:10:00 UTC\n");
}

TEST(FireTimes, PeriodicDownForIntervalsBuildsAtStartThenKeepsItsPhase) {
  const auto runs = PeriodicScheduler::plannedRuns(std::chrono::seconds(3600),
                                                   at("2024-10-27T00:10:00Z"),
                                                   at("2024-10-27T05:30:00Z"), 3);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0], at("2024-10-27T05:30:00Z"));
  EXPECT_EQ(runs[1], at("2024-10-27T06:10:00Z"));
  EXPECT_EQ(runs[2], at("2024-10-27T07:10:00Z"));
}

TEST(FireTimes, OtherSchedulersAreNotListedAndABadCronSaysWhy) {
  SchedulerEntry force;
  force.name = "force";
  force.type = "force";
  EXPECT_EQ(describeNextFires({force}, at("2024-01-01T00:00Z"), 3, nullptr), "");
  const std::string out = describeNextFires({nightly("bad", "0 3 31 2 *", "UTC")},
                                            at("2024-01-01T00:00Z"), 1, nullptr);
  EXPECT_NE(out.find("    never: cron expression '0 3 31 2 *' never matches"), std::string::npos)
      << out;
}

TEST(FireTimes, IsoTimesWithAndWithoutOffsets) {
  EXPECT_EQ(at("2024-10-27T02:30:00+02:00"), at("2024-10-27T00:30:00Z"));
  EXPECT_EQ(at("2024-10-27 00:30"), at("2024-10-27T00:30:00Z"));
  EXPECT_FALSE(parseIsoTime("yesterday"));
  EXPECT_FALSE(parseIsoTime("2024-13-01T00:00Z"));
}

}  // namespace
}  // namespace bb
