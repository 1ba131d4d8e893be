#pragma once
// The JSON of the build statistics (docs/protocol.md §7 "stats"), shared
// by the `stats` method, GET /api/v2/stats and the stats page.
#include <cstdint>
#include <string>
#include <vector>

#include "common/message.hpp"
#include "master/db/stats_records.hpp"

namespace bb {

// How many weeks `stats` shows when no `since` is given.
inline constexpr std::int64_t kStatsDefaultWeeks = 12;

// "2023-11-20": the UTC date of UNIX time `t`.
std::string utcDate(std::int64_t t);

// WEEK: {week (UNIX start, Monday 00:00 UTC), week_start ("YYYY-MM-DD"),
// builds, counted, passed, pass_rate (passed / counted, null when nothing
// counted), summarised, duration: DIST, queue: DIST, lock_wait_ms: DIST}
// with DIST {count, p50, p90, mean, max, exact}; duration and queue in
// seconds.
Json statsWeekView(const db::StatsWeek& w);

// {since, percentile: "nearest-rank", builders: [{name, weeks: [WEEK],
// steps: [{name, weeks: [WEEK]}]}]}, builders by name, steps in name
// order, weeks oldest first.
Json statsView(const std::vector<db::StatsWeek>& weeks, std::int64_t since);

}  // namespace bb
