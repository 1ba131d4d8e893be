// Build statistics: weekly pass rates and nearest-rank percentiles from a
// database filled with known builds, and the summaries cleanup leaves.
#include <gtest/gtest.h>

#include <cmath>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

// Monday 2023-11-20 00:00 UTC.
constexpr std::int64_t kWeek1 = 1700438400;
constexpr std::int64_t kWeek2 = kWeek1 + 7 * 86400;

class Stats : public ::testing::Test {
 protected:
  void SetUp() override {
    db.upgrade();
    master = db.registerMaster("m", 1);
  }

  // A finished build of `builder` queued `queue` s, started at `start`,
  // running `duration` s, with one step "compile" of duration - 1 s
  // (result as the build's) and `lockMs` of lock wait.
  std::int64_t build(const std::string& builder, std::int64_t start, std::int64_t duration,
                     Result r, std::int64_t queue = 0, std::int64_t lockMs = 0) {
    BuildsetRecord bs;
    bs.submittedAt = start - queue;
    const auto [bsid, reqs] = db.addBuildset(bs, {builder}, 0);
    const auto brid = reqs.at(builder);
    EXPECT_TRUE(db.claimRequest(brid, master, start));
    const auto b = db.addBuild(master, brid, builder, "s", start, Json::object());
    const auto step = db.addStep(b.id, 1, "compile", start + 1);
    db.finishStep(step, r, "", start + duration);
    db.setStepLockWait(step, lockMs / 2);
    db.setBuildLockWait(b.id, lockMs);
    db.finishBuild(b.id, r, "", start + duration);
    db.completeRequest(brid, r, start + duration);
    return b.id;
  }

  // Week 1 of "a": durations 10..100 s, queue 1..10 s, lock waits
  // 0..900 ms; 7 success, 1 warnings, 1 failure, 1 cancelled.
  void fillWeek1() {
    const Result results[10] = {Result::Success, Result::Failure,  Result::Success, Result::Success,
                                Result::Warnings, Result::Success, Result::Cancelled, Result::Success,
                                Result::Success, Result::Success};
    // Stored out of order: the percentiles must not depend on it.
    for (int i : {3, 9, 0, 5, 1, 8, 2, 7, 4, 6})
      build("a", kWeek1 + 3600 * (i + 1), 10 * (i + 1), results[i], i + 1, 100 * i);
  }
  void fillWeek2() {
    build("a", kWeek2 + 100, 7, Result::Success);
    build("a", kWeek2 + 200, 3, Result::Failure);
    build("a", kWeek2 + 300, 11, Result::Exception);
    build("b", kWeek2 + 400, 5, Result::Success);
  }

  const StatsWeek* find(const std::vector<StatsWeek>& ws, const std::string& builder,
                        const std::string& step, std::int64_t week) {
    for (const auto& w : ws)
      if (w.builder == builder && w.step == step && w.week == week) return &w;
    return nullptr;
  }

  Database db{":memory:"};
  MasterId master{};
};

TEST(StatsArithmetic, WeeksStartOnMondayUtc) {
  EXPECT_EQ(statsWeekStart(kWeek1), kWeek1);
  EXPECT_EQ(statsWeekStart(kWeek1 + 6 * 86400 + 86399), kWeek1);
  EXPECT_EQ(statsWeekStart(kWeek1 - 1), kWeek1 - 7 * 86400);
  EXPECT_EQ(statsWeekStart(0), -3 * 86400);  // 1970-01-01 was a Thursday
}

TEST(StatsArithmetic, NearestRankPercentiles) {
  const std::vector<std::int64_t> v{15, 20, 35, 40, 50};
  EXPECT_EQ(nearestRank(v, 50), 35);   // rank ceil(2.5) = 3
  EXPECT_EQ(nearestRank(v, 90), 50);   // rank ceil(4.5) = 5
  EXPECT_EQ(nearestRank(v, 40), 20);   // rank ceil(2.0) = 2
  EXPECT_EQ(nearestRank(v, 1), 15);
  EXPECT_EQ(nearestRank({}, 50), 0);
}

TEST(StatsArithmetic, HistogramBucketsStayWithinOneThirtySecond) {
  for (std::int64_t v : {0LL, 1LL, 31LL, 32LL, 33LL, 50LL, 90LL, 1000LL, 86399LL, 123456789LL}) {
    const int b = StatsHistogram::bucketOf(v);
    EXPECT_LE(StatsHistogram::bucketLow(b), v);
    EXPECT_GE(StatsHistogram::bucketHigh(b), v);
    StatsHistogram h;
    h.add(v);
    EXPECT_LE(std::abs(static_cast<double>(h.percentile(50) - v)), static_cast<double>(v) / 32 + 0.5);
  }
  StatsHistogram h;
  for (int i = 1; i <= 10; ++i) h.add(i);
  EXPECT_EQ(h.percentile(50), 5);
  EXPECT_EQ(h.percentile(90), 9);
  EXPECT_EQ(StatsHistogram::fromJson(h.toJson()).percentile(90), 9);
  EXPECT_EQ(StatsHistogram::fromJson(Json{{"x", 3}, {"5", "no"}}).count(), 0);
}

TEST_F(Stats, PassRateAndPercentilesPerBuilderAndWeekAreExact) {
  fillWeek1();
  fillWeek2();
  const auto ws = db.weeklyStats(StatsFilter{});
  const StatsWeek* w1 = find(ws, "a", "", kWeek1);
  ASSERT_NE(w1, nullptr);
  EXPECT_EQ(w1->builds, 10);
  EXPECT_EQ(w1->counted, 9);  // the cancelled build is not counted
  EXPECT_EQ(w1->passed, 8);   // success and warnings
  EXPECT_DOUBLE_EQ(w1->passRate(), 8.0 / 9.0);
  EXPECT_EQ(w1->summarised, 0);
  EXPECT_TRUE(w1->duration.exact);
  EXPECT_EQ(w1->duration.p50, 50);  // rank ceil(0.5 * 10) = 5 of 10..100
  EXPECT_EQ(w1->duration.p90, 90);  // rank 9
  EXPECT_EQ(w1->duration.max, 100);
  EXPECT_DOUBLE_EQ(w1->duration.mean(), 55.0);
  EXPECT_EQ(w1->queue.p50, 5);
  EXPECT_EQ(w1->queue.p90, 9);
  EXPECT_EQ(w1->lockWaitMs.p50, 400);
  EXPECT_EQ(w1->lockWaitMs.p90, 800);
  EXPECT_EQ(w1->lockWaitMs.max, 900);

  const StatsWeek* w2 = find(ws, "a", "", kWeek2);
  ASSERT_NE(w2, nullptr);
  EXPECT_EQ(w2->builds, 3);
  EXPECT_EQ(w2->counted, 3);
  EXPECT_EQ(w2->passed, 1);
  EXPECT_EQ(w2->duration.p50, 7);   // rank ceil(1.5) = 2 of 3, 7, 11
  EXPECT_EQ(w2->duration.p90, 11);  // rank ceil(2.7) = 3

  const StatsWeek* s1 = find(ws, "a", "compile", kWeek1);
  ASSERT_NE(s1, nullptr);
  EXPECT_EQ(s1->builds, 10);
  EXPECT_EQ(s1->duration.p50, 49);  // steps run duration - 1
  EXPECT_EQ(s1->duration.p90, 89);
  EXPECT_EQ(s1->lockWaitMs.p90, 400);
  EXPECT_EQ(s1->queue.count, 0);  // steps have no queue time

  EXPECT_NE(find(ws, "b", "", kWeek2), nullptr);
  EXPECT_EQ(ws.size(), 6u);  // a: 2 weeks x (build + compile), b: 1 x 2
}

TEST_F(Stats, FiltersByBuilderSinceAndSteps) {
  fillWeek1();
  fillWeek2();
  // `since` inside week 2 counts all of week 2 (whole weeks).
  auto ws = db.weeklyStats(StatsFilter{"a", kWeek2 + 3 * 86400, false});
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].builder, "a");
  EXPECT_EQ(ws[0].step, "");
  EXPECT_EQ(ws[0].week, kWeek2);
  EXPECT_EQ(ws[0].builds, 3);
  EXPECT_TRUE(db.weeklyStats(StatsFilter{"nope", 0, true}).empty());
}

TEST_F(Stats, CleanupSummarisesDeletedBuildsInsteadOfLosingThem) {
  fillWeek1();
  fillWeek2();
  const CleanupCounts c = db.deleteHistoryBefore(kWeek2, /*batch=*/3);
  EXPECT_EQ(c.builds, 10);
  const auto ws = db.weeklyStats(StatsFilter{});
  const StatsWeek* w1 = find(ws, "a", "", kWeek1);
  ASSERT_NE(w1, nullptr);
  EXPECT_EQ(w1->builds, 10);
  EXPECT_EQ(w1->summarised, 10);
  EXPECT_EQ(w1->counted, 9);
  EXPECT_EQ(w1->passed, 8);
  // Counts, sums and maxima stay exact; percentiles come from the
  // histogram: the middle of the value's bucket.
  EXPECT_DOUBLE_EQ(w1->duration.mean(), 55.0);
  EXPECT_EQ(w1->duration.max, 100);
  EXPECT_FALSE(w1->duration.exact);
  EXPECT_EQ(w1->duration.p50, 50);  // bucket 50..51
  EXPECT_EQ(w1->duration.p90, 89);  // bucket 88..91 holds 90
  EXPECT_EQ(w1->queue.p50, 5);      // small values have a bucket each
  EXPECT_EQ(w1->queue.count, 10);
  const StatsWeek* s1 = find(ws, "a", "compile", kWeek1);
  ASSERT_NE(s1, nullptr);
  EXPECT_EQ(s1->builds, 10);
  EXPECT_EQ(s1->duration.max, 99);
  // Week 2 is untouched and exact.
  const StatsWeek* w2 = find(ws, "a", "", kWeek2);
  ASSERT_NE(w2, nullptr);
  EXPECT_TRUE(w2->duration.exact);
  EXPECT_EQ(w2->duration.p50, 7);
  // A second cleanup deletes nothing more and counts nothing twice.
  db.deleteHistoryBefore(kWeek2, 3);
  EXPECT_EQ(find(db.weeklyStats(StatsFilter{}), "a", "", kWeek1)->builds, 10);
}

TEST_F(Stats, RecentMedianOfPassedBuildsForTimeLeft) {
  EXPECT_FALSE(db.recentDurationP50("a"));
  fillWeek2();
  // Passed builds of a: only the 7 s one (3 failed, 11 exception).
  EXPECT_EQ(db.recentDurationP50("a"), 7);
  // Numbers 4..13 in the order fillWeek1 stores them; the newest three
  // that passed (by number, the cancelled newest skipped): 50, 80, 30 s.
  fillWeek1();
  EXPECT_EQ(db.recentDurationP50("a", 3), 50);
}

}  // namespace
}  // namespace bb::db
