#include "client/status_format.hpp"
#include "client/event_format.hpp"

#include <gtest/gtest.h>

namespace bb::client {
namespace {

TEST(EventFormat, StepUrlsAndAGracefulStopFromTheMaster) {
  const Json urls{{"type", "step.urls"}, {"builder", "b1"}, {"time_ms", 0},
                  {"data", {{"number", 3}, {"step", 2}, {"name", "test"},
                            {"urls", Json::array({{{"name", "report"}, {"url", "https://ci/r"}},
                                                  {{"name", "cov"}, {"url", "/cov"}}})}}}};
  const std::string u = formatEvent(urls);
  EXPECT_NE(u.find("b1 #3 step 2 test URLs: report https://ci/r, cov /cov"), std::string::npos) << u;
  const Json drain{{"type", "slave.draining"}, {"slave", "s1"}, {"time_ms", 0},
                   {"data", {{"running", 1}, {"reason", "stopped by alice"}}}};
  const std::string d = formatEvent(drain);
  EXPECT_NE(d.find("slave s1 draining (1 build(s) left): stopped by alice"), std::string::npos) << d;
}

TEST(EventFormat, AnEventRelayedFromAnotherMasterSaysSo) {
  Json ev{{"type", "build.started"}, {"builder", "b1"}, {"slave", "s1"}, {"time_ms", 0},
          {"data", {{"number", 4}, {"slave", "s1"}}}};
  EXPECT_EQ(formatEvent(ev).find("another master"), std::string::npos) << formatEvent(ev);
  ev["other_master"] = true;
  const std::string line = formatEvent(ev);
  EXPECT_NE(line.find("b1 #4 started on s1 [another master]"), std::string::npos) << line;
}

TEST(StatusFormat, Durations) {
  EXPECT_EQ(formatDuration(100, 145), "45s");
  EXPECT_EQ(formatDuration(100.2, 100.6), "0s");
  EXPECT_EQ(formatDuration(0, 185), "3m 05s");
  EXPECT_EQ(formatDuration(0, 7260), "2h 01m");
  EXPECT_EQ(formatDuration(100, nullptr), "-");
  EXPECT_EQ(formatDuration(200, 100), "-");
}

TEST(StatusFormat, Timestamps) {
  EXPECT_EQ(formatTimestamp(nullptr), "-");
  EXPECT_EQ(formatTimestamp("2024-01-01T00:00:00Z"), "2024-01-01T00:00:00Z");
  const std::string t = formatTimestamp(1700000000);
  ASSERT_EQ(t.size(), 19u) << t;
  EXPECT_EQ(t.substr(0, 4), "2023");
}

TEST(StatusFormat, DisplayResult) {
  EXPECT_EQ(displayResult(Json{{"result", "success"}, {"finished", true}}), "success");
  EXPECT_EQ(displayResult(Json{{"result", nullptr}, {"finished", false}}), "running");
  EXPECT_EQ(displayResult(Json{{"result", "failure"}}), "failure");
  EXPECT_EQ(displayResult(Json::object()), "-");
}

TEST(StatusFormat, TableAlignsColumnsAndTrims) {
  const std::string t = formatTable({{"A", "BB", "C"}, {"long", "x", ""}});
  EXPECT_EQ(t, "A     BB  C\nlong  x\n");
}

TEST(StatusFormat, SchedulerLineSaysWhatEachSchedulerWaitsFor) {
  const Json nightly{{"name", "night"},
                     {"type", "nightly"},
                     {"next_fire_at", 1796176800},
                     {"next_fire_local", "2026-12-02 03:00:00 CET (+01:00)"},
                     {"timezone", "Europe/Berlin"},
                     {"held_changes", {4, 5}}};
  EXPECT_EQ(formatSchedulerLine(nightly),
            "night (nightly): next run 2026-12-02 03:00:00 CET (+01:00) Europe/Berlin, "
            "2 changes held (ids 4, 5)");
  const Json timer{{"name", "quick"},
                   {"type", "single_branch"},
                   {"stable_at", 1700000000},
                   {"held_changes", {7}},
                   {"last_error", "building the held changes failed: disk full"}};
  EXPECT_EQ(formatSchedulerLine(timer), "quick (single_branch): tree stable at " +
                                            formatTimestamp(1700000000) +
                                            ", 1 change held (id 7), last error: building the "
                                            "held changes failed: disk full");
  Json many = timer;
  many["held_changes"] = Json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  many["held_count"] = 300;
  many.erase("last_error");
  EXPECT_EQ(formatSchedulerLine(many), "quick (single_branch): tree stable at " +
                                           formatTimestamp(1700000000) +
                                           ", 300 changes held (ids 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...)");
  EXPECT_EQ(formatSchedulerLine(Json{{"name", "d"}, {"type", "dependent"}, {"upstream", "u"}}),
            "d (dependent): after u succeeds");
  EXPECT_EQ(formatSchedulerLine(Json{{"name", "p"}, {"type", "periodic"}, {"next_fire_at", nullptr},
                                     {"timezone", "UTC"}}),
            "p (periodic): no run planned");
  EXPECT_EQ(formatSchedulerLine(Json{{"name", "x"}, {"type", "try"}}), "x (try): idle");
}

TEST(StatusFormat, CellText) {
  EXPECT_EQ(cellText("s"), "s");
  EXPECT_EQ(cellText(12), "12");
  EXPECT_EQ(cellText(nullptr), "-");
}

TEST(StatusFormat, WhatRetentionRemovedAndItsLastRound) {
  const Json removed{{"at", 1}, {"by", "artifacts.max_age_days=30"},
                     {"text", "removed by retention at 1970-01-01 00:00:01 UTC (artifacts.max_age_days=30)"}};
  const Json build{{"artifacts", Json::array({{{"name", "app"}, {"kind", "file"}, {"size", 5}, {"sha256", "ab"},
                                               {"removed", removed}},
                                              {{"name", "doc"}, {"kind", "file"}, {"size", 1}, {"sha256", "cd"}}})},
                   {"logs_removed", removed}};
  EXPECT_EQ(formatArtifacts(build),
            "  artifact app (file, 5 bytes, sha256 ab): " + removed["text"].get<std::string>() + "\n"
            "  artifact doc (file, 1 bytes, sha256 cd)\n"
            "  logs " + removed["text"].get<std::string>() + "\n");

  EXPECT_EQ(formatRetention(Json()), "");
  EXPECT_EQ(formatRetention(Json{{"enabled", false}, {"last_run", nullptr}}), "");
  EXPECT_EQ(formatRetention(Json{{"enabled", true}, {"last_run", nullptr}, {"running", true}}),
            "Retention: no round yet; a round is running\n");
  const Json last{{"started_at", 0}, {"artifacts", 2}, {"artifact_bytes", 300}, {"log_builds", 1},
                  {"log_bytes", 40}, {"by_rule", {{"logs.max_age_days=1", 1}, {"artifacts.max_total_mb=2", 2}}},
                  {"error", "cannot delete x: busy"}};
  const std::string line = formatRetention(Json{{"enabled", false}, {"last_run", last}});
  EXPECT_NE(line.find("Retention: last run -: removed 2 artifact(s) (300 bytes), the logs of 1 build(s) (40 bytes)"
                      " [artifacts.max_total_mb=2: 2, logs.max_age_days=1: 1]; stopped early: cannot delete x: busy;"
                      " retention is off"),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace bb::client
