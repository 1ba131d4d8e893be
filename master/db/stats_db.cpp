// Build statistics: lock waits as builds record them, the weekly figures
// per builder and step (raw rows merged with the summaries), and the
// summaries cleanupdb writes before it deletes builds.
#include <algorithm>
#include <map>
#include <tuple>

#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

// One measure being gathered: raw values (exact) and summarised ones.
struct StatsMeasure {
  std::vector<std::int64_t> raw;
  StatsHistogram summarised;
  std::int64_t count = 0, sum = 0, max = 0;

  void addRaw(std::int64_t v) {
    v = std::max<std::int64_t>(v, 0);
    raw.push_back(v);
    ++count;
    sum += v;
    max = std::max(max, v);
  }
  StatsDistribution finish() {
    StatsDistribution d;
    d.count = count;
    d.sum = sum;
    d.max = max;
    if (summarised.count() == 0) {
      std::sort(raw.begin(), raw.end());
      d.p50 = nearestRank(raw, 50);
      d.p90 = nearestRank(raw, 90);
    } else {
      StatsHistogram all = summarised;
      for (std::int64_t v : raw) all.add(v);
      d.p50 = all.percentile(50);
      d.p90 = all.percentile(90);
      d.exact = false;
    }
    return d;
  }
  // Everything as one histogram (what a summary row keeps).
  StatsHistogram histogram() const {
    StatsHistogram h = summarised;
    for (std::int64_t v : raw) h.add(v);
    return h;
  }
};

struct StatsAcc {
  std::int64_t builds = 0, counted = 0, passed = 0, summarised = 0;
  StatsMeasure duration, queue, lockWait;

  void addResult(Result r) {
    ++builds;
    if (r == Result::Skipped || r == Result::Retry || r == Result::Cancelled) return;
    ++counted;
    if (r == Result::Success || r == Result::Warnings) ++passed;
  }
};

using StatsKey = std::tuple<std::string, std::string, std::int64_t>;  // builder, step, week
using StatsAccs = std::map<StatsKey, StatsAcc>;

// Columns: builder, started_at, finished_at, result, lock_wait_ms,
// submitted_at (NULL: a build without a request).
void addBuildRow(StatsAccs& accs, const Statement& s) {
  StatsAcc& a = accs[{s.getText(0), "", statsWeekStart(s.getInt(1))}];
  a.addResult(s.getResult(3));
  a.duration.addRaw(s.getInt(2) - s.getInt(1));
  a.lockWait.addRaw(s.getInt(4));
  if (!s.isNull(5)) a.queue.addRaw(s.getInt(1) - s.getInt(5));
}

// Columns: builder, step name, build started_at, step started_at,
// finished_at, result, lock_wait_ms.
void addStepRow(StatsAccs& accs, const Statement& s) {
  StatsAcc& a = accs[{s.getText(0), s.getText(1), statsWeekStart(s.getInt(2))}];
  a.addResult(s.getResult(5));
  a.duration.addRaw(s.getInt(4) - s.getInt(3));
  a.lockWait.addRaw(s.getInt(6));
}

#define BB_STATS_BUILD_COLUMNS \
  "b.builder, b.started_at, b.finished_at, b.result, b.lock_wait_ms, r.submitted_at"
#define BB_STATS_STEP_COLUMNS \
  "b.builder, s.name, b.started_at, s.started_at, s.finished_at, s.result, s.lock_wait_ms"
#define BB_STATS_SUMMARY_COLUMNS                                                             \
  "builder, step, week, builds, counted, passed, duration_sum, duration_max, duration_hist," \
  " queue_count, queue_sum, queue_max, queue_hist, lock_wait_sum, lock_wait_max, lock_wait_hist"

void addSummaryMeasure(StatsMeasure& m, std::int64_t count, std::int64_t sum, std::int64_t max,
                       const Json& hist) {
  m.summarised.merge(StatsHistogram::fromJson(hist));
  m.count += count;
  m.sum += sum;
  m.max = std::max(m.max, max);
}

void addSummaryRow(StatsAccs& accs, const Statement& s) {
  StatsAcc& a = accs[{s.getText(0), s.getText(1), s.getInt(2)}];
  a.builds += s.getInt(3);
  a.summarised += s.getInt(3);
  a.counted += s.getInt(4);
  a.passed += s.getInt(5);
  addSummaryMeasure(a.duration, s.getInt(3), s.getInt(6), s.getInt(7), s.getJson(8));
  addSummaryMeasure(a.queue, s.getInt(9), s.getInt(10), s.getInt(11), s.getJson(12));
  addSummaryMeasure(a.lockWait, s.getInt(3), s.getInt(13), s.getInt(14), s.getJson(15));
}

}  // namespace

void Database::setBuildLockWait(std::int64_t buildId, std::int64_t ms) {
  static constexpr char kSet[] = "UPDATE builds SET lock_wait_ms = ?2 WHERE id = ?1";
  Statement s = stmt(kSet);
  s.bind(1, buildId).bind(2, std::max<std::int64_t>(ms, 0)).runAheadChangingOne("setBuildLockWait: no build with id " + std::to_string(buildId));
}

void Database::setStepLockWait(std::int64_t stepId, std::int64_t ms) {
  static constexpr char kSet[] = "UPDATE steps SET lock_wait_ms = ?2 WHERE id = ?1";
  Statement s = stmt(kSet);
  s.bind(1, stepId).bind(2, std::max<std::int64_t>(ms, 0)).runAheadChangingOne("setStepLockWait: no step with id " + std::to_string(stepId));
}

std::vector<StatsWeek> Database::weeklyStats(const StatsFilter& f) {
  // Two statements each (all builders / one), so that each uses its index.
  static constexpr char kBuildsAll[] =
      "SELECT " BB_STATS_BUILD_COLUMNS " FROM builds b LEFT JOIN buildrequests r"
      " ON r.id = b.request_id WHERE b.started_at >= ?1 AND b.finished = 1";
  static constexpr char kBuildsOne[] =
      "SELECT " BB_STATS_BUILD_COLUMNS " FROM builds b LEFT JOIN buildrequests r"
      " ON r.id = b.request_id WHERE b.builder = ?2 AND b.started_at >= ?1 AND b.finished = 1";
  static constexpr char kStepsAll[] =
      "SELECT " BB_STATS_STEP_COLUMNS " FROM builds b JOIN steps s ON s.build_id = b.id"
      " WHERE b.started_at >= ?1 AND b.finished = 1 AND s.finished = 1";
  static constexpr char kStepsOne[] =
      "SELECT " BB_STATS_STEP_COLUMNS " FROM builds b JOIN steps s ON s.build_id = b.id"
      " WHERE b.builder = ?2 AND b.started_at >= ?1 AND b.finished = 1 AND s.finished = 1";
  static constexpr char kSummariesAll[] =
      "SELECT " BB_STATS_SUMMARY_COLUMNS " FROM build_stats_weekly WHERE week >= ?1";
  static constexpr char kSummariesOne[] =
      "SELECT " BB_STATS_SUMMARY_COLUMNS " FROM build_stats_weekly WHERE builder = ?2 AND week >= ?1";
  // Whole weeks: `since` goes back to the start of its week.
  const std::int64_t since = statsWeekStart(f.since);
  const bool one = !f.builder.empty();
  StatsAccs accs;
  auto read = [&](const char* all, const char* byBuilder, void (*add)(StatsAccs&, const Statement&)) {
    Statement s = stmt(one ? byBuilder : all);
    s.bind(1, since);
    if (one) s.bind(2, f.builder);
    while (s.step()) add(accs, s);
  };
  read(kBuildsAll, kBuildsOne, addBuildRow);
  if (f.steps) read(kStepsAll, kStepsOne, addStepRow);
  read(kSummariesAll, kSummariesOne, addSummaryRow);
  std::vector<StatsWeek> out;
  for (auto& [key, a] : accs) {
    if (!f.steps && !std::get<1>(key).empty()) continue;
    StatsWeek w;
    std::tie(w.builder, w.step, w.week) = key;
    w.builds = a.builds;
    w.counted = a.counted;
    w.passed = a.passed;
    w.summarised = a.summarised;
    w.duration = a.duration.finish();
    w.queue = a.queue.finish();
    w.lockWaitMs = a.lockWait.finish();
    out.push_back(std::move(w));
  }
  return out;
}

std::optional<std::int64_t> Database::recentDurationP50(const std::string& builder, int n) {
  // The newest builds by number (the UNIQUE (builder, number) index).
  static constexpr char kRecent[] =
      "SELECT finished_at - started_at FROM builds WHERE builder = ?1 AND finished = 1"
      " AND result IN (0, 1) ORDER BY number DESC LIMIT ?2";
  std::vector<std::int64_t> d;
  Statement s = stmt(kRecent);
  s.bind(1, builder).bind(2, static_cast<std::int64_t>(std::max(n, 1)));
  while (s.step()) d.push_back(std::max<std::int64_t>(s.getInt(0), 0));
  if (d.empty()) return std::nullopt;
  std::sort(d.begin(), d.end());
  return nearestRank(d, 50);
}

void Database::summariseBuilds(const std::vector<std::int64_t>& buildIds) {
  static constexpr char kBuild[] =
      "SELECT " BB_STATS_BUILD_COLUMNS " FROM builds b LEFT JOIN buildrequests r"
      " ON r.id = b.request_id WHERE b.id = ?1 AND b.finished = 1";
  static constexpr char kSteps[] =
      "SELECT " BB_STATS_STEP_COLUMNS " FROM builds b JOIN steps s ON s.build_id = b.id"
      " WHERE b.id = ?1 AND b.finished = 1 AND s.finished = 1";
  static constexpr char kSummary[] =
      "SELECT " BB_STATS_SUMMARY_COLUMNS " FROM build_stats_weekly"
      " WHERE builder = ?1 AND step = ?2 AND week = ?3";
  static constexpr char kUpsert[] =
      "INSERT INTO build_stats_weekly (" BB_STATS_SUMMARY_COLUMNS ") VALUES"
      " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
      " ON CONFLICT (builder, step, week) DO UPDATE SET builds = excluded.builds,"
      " counted = excluded.counted, passed = excluded.passed,"
      " duration_sum = excluded.duration_sum, duration_max = excluded.duration_max,"
      " duration_hist = excluded.duration_hist, queue_count = excluded.queue_count,"
      " queue_sum = excluded.queue_sum, queue_max = excluded.queue_max,"
      " queue_hist = excluded.queue_hist, lock_wait_sum = excluded.lock_wait_sum,"
      " lock_wait_max = excluded.lock_wait_max, lock_wait_hist = excluded.lock_wait_hist";
  StatsAccs accs;
  for (std::int64_t id : buildIds) {
    {
      Statement s = stmt(kBuild);
      s.bind(1, id);
      while (s.step()) addBuildRow(accs, s);
    }
    Statement s = stmt(kSteps);
    s.bind(1, id);
    while (s.step()) addStepRow(accs, s);
  }
  for (auto& [key, a] : accs) {
    const auto& [builder, step, week] = key;
    {
      Statement s = stmt(kSummary);
      s.bind(1, builder).bind(2, step).bind(3, week);
      if (s.step()) addSummaryRow(accs, s);  // the same key: merges into `a`
    }
    const StatsAcc& m = a;
    Statement u = stmt(kUpsert);
    u.bind(1, builder).bind(2, step).bind(3, week);
    u.bind(4, m.builds).bind(5, m.counted).bind(6, m.passed);
    u.bind(7, m.duration.sum).bind(8, m.duration.max).bindJson(9, m.duration.histogram().toJson());
    u.bind(10, m.queue.count).bind(11, m.queue.sum).bind(12, m.queue.max);
    u.bindJson(13, m.queue.histogram().toJson());
    u.bind(14, m.lockWait.sum).bind(15, m.lockWait.max).bindJson(16, m.lockWait.histogram().toJson());
    u.run();
  }
}

}  // namespace bb::db
