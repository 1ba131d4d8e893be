// The try_jobdir scheduler against an in-memory database and a real job
// directory, with the polling fallback driven by a manual clock: jobs
// become BuildSets with their patch and move to cur/, refused ones go to
// bad/ with their reason, a job id is built once, a long queue is taken in
// turns.
#include "master/schedulers/try_jobdir.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class TryJobdirTest : public ::testing::Test {
 protected:
  TryJobdirTest() : db(":memory:"), buildsets(db, events) {
    db.upgrade();
    char tmpl[] = "/tmp/bb-tryjd-XXXXXX";
    dir = ::mkdtemp(tmpl);
    SchedulerEntry e;
    e.name = "tryjd";
    e.type = "try_jobdir";
    e.builders = {"app"};
    e.extra = Json{{"jobdir", "jobs"}, {"max_patch_bytes", 200}, {"poll_interval", 1}};
    sched = std::make_unique<TryJobdirScheduler>(e, SchedulerContext{db, clock, buildsets, dir, nullptr});
  }
  ~TryJobdirTest() override {
    sched.reset();
    fs::remove_all(dir);
  }
  TryJob job(const std::string& id) {
    TryJob j;
    j.jobId = id;
    j.builders = {"app"};
    j.baseRevision = "abc";
    j.patch = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
    j.who = "alice";
    return j;
  }
  void drop(const std::string& name, const std::string& text) {
    std::ofstream(dir + "/jobs/new/" + name) << text;
  }
  int buildsetCount() { return static_cast<int>(db.lastBuildsetId().value_or(0)); }

  db::Database db;
  ManualClock clock;
  EventBus events{clock, [](std::function<void()> fn) { fn(); },
                 [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService buildsets;
  std::string dir;
  std::unique_ptr<TryJobdirScheduler> sched;
};

TEST_F(TryJobdirTest, JobsAtStartAndLaterBecomeBuildsetsWithTheirPatch) {
  fs::create_directories(dir + "/jobs/new");
  drop("a.job", formatTryJob(job("a")));
  sched->start();
  EXPECT_EQ(sched->describe()["watch"], "polling every 1.00 s");
  ASSERT_EQ(buildsetCount(), 1);
  EXPECT_TRUE(fs::exists(dir + "/jobs/cur/a.job"));
  auto p = db.getBuildsetPatch(1);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->jobId, "a");
  EXPECT_EQ(p->who, "alice");
  EXPECT_EQ(db.getBuildset(1)->sourcestamp.revision, "abc");
  drop("b.job", formatTryJob(job("b")));
  clock.advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(buildsetCount(), 2);
}

TEST_F(TryJobdirTest, RefusedJobsGoToBadWithTheReason) {
  sched->start();
  TryJob other = job("o");
  other.builders = {"elsewhere"};
  drop("o.job", formatTryJob(other));
  TryJob big = job("big");
  big.patch += std::string(300, '+');
  drop("big.job", formatTryJob(big));
  drop("junk.job", "Try-Format: 7\n\n");
  clock.advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(buildsetCount(), 0);
  EXPECT_NE(slurp(dir + "/jobs/bad/o.job.reason").find("builder 'elsewhere' may not be tried here"), std::string::npos);
  EXPECT_NE(slurp(dir + "/jobs/bad/big.job.reason").find("max_patch_bytes (200)"), std::string::npos);
  EXPECT_NE(slurp(dir + "/jobs/bad/junk.job.reason").find("version '7'"), std::string::npos);
  EXPECT_EQ(sched->refusalOf("o").find("builder 'elsewhere' may not be tried here"), 0u);
  EXPECT_EQ(sched->describe()["refused"], 3);
}

TEST_F(TryJobdirTest, AJobIdIsBuiltOnce) {
  sched->start();
  drop("a.job", formatTryJob(job("a")));
  clock.advance(std::chrono::milliseconds(1000));
  drop("a-again.job", formatTryJob(job("a")));  // as after a crash before the move
  clock.advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(buildsetCount(), 1);
  EXPECT_TRUE(fs::exists(dir + "/jobs/cur/a-again.job"));
}

TEST_F(TryJobdirTest, ALongQueueIsTakenInTurns) {
  fs::create_directories(dir + "/jobs/new");
  const int n = TryJobdirScheduler::kJobsPerTurn * 2 + 3;
  for (int i = 0; i < n; ++i) drop("j" + std::to_string(1000 + i), formatTryJob(job("j" + std::to_string(i))));
  sched->start();
  EXPECT_EQ(buildsetCount(), TryJobdirScheduler::kJobsPerTurn);
  clock.advance(std::chrono::milliseconds(0));
  clock.advance(std::chrono::milliseconds(0));
  EXPECT_EQ(buildsetCount(), n);
}

}  // namespace
}  // namespace bb
