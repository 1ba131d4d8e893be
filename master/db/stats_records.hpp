#pragma once
// Build statistics (master/db/stats_db.cpp): what one week of one builder
// (or of one of its steps) looked like, computed from the raw builds and
// steps plus the weekly summaries that `buildmaster cleanupdb` leaves when
// it deletes old builds.
//
// Percentiles are nearest-rank: of N values sorted ascending, the p-th
// percentile is the value at 1-based rank ceil(p/100 * N). For a week whose
// values are all still raw rows the figure is exact. A week with summarised
// builds keeps their values as a histogram (StatsHistogram): its
// percentiles are the bucket's middle, within 1/32 (3 %) of the value.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/message.hpp"

namespace bb::db {

// The start of the week (Monday 00:00 UTC) that contains `t` (UNIX seconds).
std::int64_t statsWeekStart(std::int64_t t);

// Nearest-rank percentile of ascending `sorted` (p in 1..100); 0 for none.
std::int64_t nearestRank(const std::vector<std::int64_t>& sorted, int p);

// A mergeable histogram of non-negative integers: values below 32 have a
// bucket each; above, 16 buckets per power of two (relative width 1/16).
class StatsHistogram {
 public:
  void add(std::int64_t value, std::int64_t count = 1);
  void merge(const StatsHistogram& other);
  std::int64_t count() const { return count_; }
  // Nearest-rank percentile over the buckets: the middle of the bucket
  // that holds rank ceil(p/100 * count). 0 when empty.
  std::int64_t percentile(int p) const;
  // {"bucket": count, ...}: sparse, for the summary table.
  Json toJson() const;
  static StatsHistogram fromJson(const Json& j);

  static int bucketOf(std::int64_t value);
  static std::int64_t bucketLow(int bucket);
  static std::int64_t bucketHigh(int bucket);  // inclusive

 private:
  std::map<int, std::int64_t> buckets_;
  std::int64_t count_ = 0;
};

// One measure (duration, queue time, lock wait) over a week.
struct StatsDistribution {
  std::int64_t count = 0, sum = 0, max = 0;
  std::int64_t p50 = 0, p90 = 0;
  bool exact = true;  // false when summarised values made p50/p90 approximate
  double mean() const { return count ? static_cast<double>(sum) / static_cast<double>(count) : 0; }
};

// One (builder, step, week). step "" is the whole build.
struct StatsWeek {
  std::string builder, step;
  std::int64_t week = 0;         // statsWeekStart()
  std::int64_t builds = 0;       // finished builds (or step runs) that started in the week
  std::int64_t counted = 0;      // of them, those a pass rate counts (not skipped, retry, cancelled)
  std::int64_t passed = 0;       // of those, success or warnings
  std::int64_t summarised = 0;   // of `builds`, those known from the summary only
  StatsDistribution duration;    // seconds, started to finished
  StatsDistribution queue;       // seconds, request submitted to build started (builds only)
  StatsDistribution lockWaitMs;  // milliseconds waiting for locks
  // passed / counted, 0 when nothing counted.
  double passRate() const { return counted ? static_cast<double>(passed) / static_cast<double>(counted) : 0; }
};

struct StatsFilter {
  std::string builder;      // "" every builder
  std::int64_t since = 0;   // builds that started at or after (UNIX seconds)
  bool steps = true;        // also per step
};

}  // namespace bb::db
