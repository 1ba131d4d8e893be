// `buildbot stats`: its --since dates and its table.
#include <gtest/gtest.h>

#include "client/stats_command.hpp"

namespace bb::client {
namespace {

TEST(StatsCommand, SinceIsADateInUtc) {
  EXPECT_EQ(parseStatsDate("2023-11-20"), 1700438400);
  EXPECT_EQ(parseStatsDate("1970-01-01"), 0);
  EXPECT_FALSE(parseStatsDate("2023-02-30"));  // not a real date
  EXPECT_FALSE(parseStatsDate("2023-13-01"));
  EXPECT_FALSE(parseStatsDate("2023-1-01"));
  EXPECT_FALSE(parseStatsDate("yesterday"));
  EXPECT_FALSE(parseStatsDate("2023-11-20x"));
}

TEST(StatsCommand, TableHasARowPerBuilderStepAndWeek) {
  const Json week{{"week", 1700438400}, {"week_start", "2023-11-20"}, {"builds", 10}, {"counted", 9},
                  {"passed", 8}, {"pass_rate", 8.0 / 9.0},
                  {"duration", {{"count", 10}, {"p50", 50}, {"p90", 185}, {"exact", true}}},
                  {"queue", {{"count", 10}, {"p50", 5}, {"p90", 9}, {"exact", false}}},
                  {"lock_wait_ms", {{"count", 10}, {"p50", 400}, {"p90", 2500}, {"exact", true}}}};
  const Json result{{"since", 1700438400},
                    {"builders", {{{"name", "b1"}, {"weeks", {week}},
                                   {"steps", {{{"name", "compile"}, {"weeks", {week}}}}}}}}};
  const std::string t = formatStats(result);
  EXPECT_NE(t.find("BUILDER  STEP"), std::string::npos) << t;
  EXPECT_NE(t.find("b1       -        2023-11-20  10"), std::string::npos) << t;
  EXPECT_NE(t.find("b1       compile"), std::string::npos) << t;
  EXPECT_NE(t.find("88.9% (8/9)"), std::string::npos) << t;
  EXPECT_NE(t.find("3m 05s"), std::string::npos) << t;  // p90 185 s
  EXPECT_NE(t.find("~5s"), std::string::npos) << t;     // approximate queue p50
  EXPECT_NE(t.find("400ms"), std::string::npos) << t;
  EXPECT_NE(t.find("3s"), std::string::npos) << t;      // 2500 ms
  EXPECT_EQ(formatStats(Json{{"since", 5}, {"builders", Json::array()}}), "no finished builds since the week of 1970-01-01\n");
}

}  // namespace
}  // namespace bb::client
