// Deleting old history (buildmaster cleanupdb) and reading a log's end.
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class Cleanup : public ::testing::Test {
 protected:
  void SetUp() override {
    db.upgrade();
    master = db.registerMaster("m", 1);
  }
  MasterId master{};

  // A build of `builder` with one step and a two-chunk log, finished (and
  // its request and buildset completed) at `finishedAt` unless 0.
  BuildRecord build(const std::string& builder, std::int64_t finishedAt) {
    BuildsetRecord bs;
    bs.submittedAt = finishedAt ? finishedAt - 10 : 1;
    const auto [bsid, reqs] = db.addBuildset(bs, {builder}, 0);
    const auto brid = reqs.at(builder);
    EXPECT_TRUE(db.claimRequest(brid, master, bs.submittedAt));
    const auto b = db.addBuild(master, brid, builder, "s", bs.submittedAt, Json::object());
    const auto step = db.addStep(b.id, 1, "shell", bs.submittedAt);
    const auto log = db.addLog(step, "stdio");
    db.appendLog(log, 0, "line one\n");
    db.appendLog(log, 0, "line two\n");
    db.finishLog(log);
    if (finishedAt) {
      db.finishStep(step, Result::Success, "ok", finishedAt);
      db.finishBuild(b.id, Result::Success, "ok", finishedAt);
      db.completeRequest(brid, Result::Success, finishedAt);
    }
    buildsets.push_back(bsid);
    return b;
  }

  Database db{":memory:"};
  std::vector<std::int64_t> buildsets;
};

TEST_F(Cleanup, DeletesOldBuildsWithTheirLogsButKeepsEachBuildersNewest) {
  const auto a1 = build("a", 100);
  const auto a2 = build("a", 200);
  const auto a3 = build("a", 0);  // still running
  const auto b1 = build("b", 100);
  const auto a4 = build("a", 400);

  const CleanupCounts c = db.deleteHistoryBefore(250, /*batch=*/1);
  EXPECT_EQ(c.builds, 2);
  EXPECT_EQ(c.steps, 2);
  EXPECT_EQ(c.logs, 2);
  EXPECT_EQ(c.logChunks, 4);
  EXPECT_EQ(c.logBytes, 2 * 18);
  EXPECT_EQ(c.buildsets, 2);

  EXPECT_FALSE(db.getBuild(a1.id));
  EXPECT_FALSE(db.getBuild(a2.id));
  EXPECT_TRUE(db.getBuild(a3.id));  // not finished
  EXPECT_TRUE(db.getBuild(a4.id));  // finished after the horizon
  EXPECT_TRUE(db.getBuild(b1.id));  // old, but b's newest: numbering goes on from it
  EXPECT_FALSE(db.getBuildset(buildsets[0]));
  EXPECT_FALSE(db.getBuildset(buildsets[1]));
  EXPECT_TRUE(db.getBuildset(buildsets[2]));
  EXPECT_TRUE(db.getBuildset(buildsets[3]));
  // Nothing else is old enough: a second run deletes nothing.
  const CleanupCounts again = db.deleteHistoryBefore(250);
  EXPECT_EQ(again.builds, 0);
  EXPECT_EQ(again.buildsets, 0);
  EXPECT_EQ(db.addBuild(master, 0, "b", "s", 500, Json::object()).number, 2);
  EXPECT_EQ(db.addBuild(master, 0, "a", "s", 500, Json::object()).number, 5);
  // Once b has a newer build, its old one goes too; compacting keeps the rest.
  const CleanupCounts later = db.deleteHistoryBefore(250);
  EXPECT_EQ(later.builds, 1);
  EXPECT_FALSE(db.getBuild(b1.id));
  db.compact();
  EXPECT_TRUE(db.getBuild(a4.id));
}

TEST_F(Cleanup, LogTailReadsTheLastLinesAcrossChunks) {
  BuildsetRecord bs;
  const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
  const auto b = db.addBuild(master, brid, "a", "s", 1, Json::object());
  const auto log = db.addLog(db.addStep(b.id, 1, "shell", 1), "stdio");
  EXPECT_EQ(db.readLogTail(log, 3), "");
  db.appendLog(log, 2, "$ make test\n");
  for (int i = 1; i <= 100; ++i) db.appendLog(log, i % 2, "line " + std::to_string(i) + "\n");
  db.appendLog(log, 0, "no newline at the end");
  EXPECT_EQ(db.readLogTail(log, 3), "line 99\nline 100\nno newline at the end");
  EXPECT_EQ(db.readLogTail(log, 1), "no newline at the end");
  // A byte cap keeps a huge last line from being read whole.
  EXPECT_EQ(db.readLogTail(log, 3, 8), " the end");
  EXPECT_EQ(db.readLogTail(log, 1000).rfind("$ make test\nline 1\n", 0), 0u);
}

}  // namespace
}  // namespace bb::db
