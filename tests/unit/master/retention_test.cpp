// The retention janitor's rules (age, count per builder, total size, and
// together) against a real SQLite database file and real artifact files.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "master/artifacts/artifact_store.hpp"
#include "master/artifacts/retention.hpp"
#include "master/db/database.hpp"
#include "master/db/stats_records.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kNow = 1000 * kDay;

class Retention : public ::testing::Test {
 protected:
  Retention() {
    char tmpl[] = "/tmp/bb-retention-XXXXXX";
    dir = ::mkdtemp(tmpl);
    db = std::make_unique<db::Database>(dir + "/state.sqlite");
    db->upgrade();
    master = db->registerMaster("m", 1);
    store = std::make_unique<ArtifactStore>(dir, *db);
    clock.setWall(WallTime(std::chrono::seconds(kNow)));
  }
  ~Retention() override {
    janitor.reset();
    store.reset();
    db.reset();
    fs::remove_all(dir);
  }

  // A build of `builder` finished at `finishedAt` (0: still running) with
  // a step and a log, and one artifact file per (name, bytes), stored at
  // the build's start.
  db::BuildRecord build(const std::string& builder, std::int64_t finishedAt,
                        std::vector<std::pair<std::string, int>> artifacts = {}, db::MasterId by = {}) {
    const std::int64_t start = (finishedAt ? finishedAt : kNow) - 60;
    const auto b = db->addBuild(by.value ? by : master, 0, builder, "s", start, Json::object());
    const auto step = db->addStep(b.id, 1, "shell", start);
    const auto log = db->addLog(step, "stdio");
    db->appendLog(log, 0, "some output of " + builder + "\n");
    db->finishLog(log);
    for (const auto& [name, bytes] : artifacts) {
      fs::create_directories(store->dirFor(builder, b.number));
      std::ofstream(store->dirFor(builder, b.number) + "/" + name) << std::string(static_cast<std::size_t>(bytes), 'x');
      store->record(b.id, name, "file", bytes, std::string(64, '0'), 0644, start);
    }
    if (finishedAt) {
      db->finishStep(step, Result::Success, "ok", finishedAt);
      db->finishBuild(b.id, Result::Success, "ok", finishedAt);
    }
    return *db->getBuild(b.id);
  }

  RetentionRound run(const RetentionConfig& c) {
    janitor = std::make_unique<RetentionJanitor>(*db, *store, clock, master);
    janitor->configure(c);
    return janitor->runRound();
  }

  bool fileOf(const db::BuildRecord& b, const std::string& name) {
    return fs::exists(store->dirFor(b.builder, b.number) + "/" + name);
  }
  std::string removedBy(const db::BuildRecord& b, const std::string& name) {
    auto a = db->getArtifact(b.id, name);
    return a ? a->removedBy : "no row";
  }
  std::string logText(const db::BuildRecord& b) {
    std::string out;
    for (const auto& s : db->stepsForBuild(b.id))
      for (const auto& l : db->logsForStep(s.id))
        db->readLog(l.id, [&](int, std::string_view d) {
          out.append(d);
          return true;
        });
    return out;
  }

  std::string dir;
  ManualClock clock;
  std::unique_ptr<db::Database> db;
  db::MasterId master{};
  std::unique_ptr<ArtifactStore> store;
  std::unique_ptr<RetentionJanitor> janitor;
};

TEST_F(Retention, ArtifactsPastTheirAgeGoAndTheirRowsSaySo) {
  const auto old = build("a", kNow - 10 * kDay, {{"app", 100}, {"doc", 5}});
  const auto recent = build("a", kNow - 2 * kDay, {{"app", 100}});
  const auto running = build("b", 0, {{"app", 7}});
  RetentionConfig c;
  c.artifacts.maxAgeDays = 5;
  const RetentionRound r = run(c);
  EXPECT_EQ(r.artifacts, 2);
  EXPECT_EQ(r.artifactBytes, 105);
  EXPECT_EQ(r.byRule.at("artifacts.max_age_days=5"), 2);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(fileOf(old, "app"));
  EXPECT_FALSE(fileOf(old, "doc"));
  EXPECT_FALSE(fs::exists(store->dirFor("a", old.number))) << "the emptied build directory goes too";
  EXPECT_EQ(removedBy(old, "app"), "artifacts.max_age_days=5");
  EXPECT_EQ(db->getArtifact(old.id, "app")->removedAt, kNow);
  EXPECT_TRUE(fileOf(recent, "app"));
  EXPECT_EQ(removedBy(recent, "app"), "");
  EXPECT_TRUE(fileOf(running, "app"));
  // Removed rows stay listed, and no longer count toward a build's bytes.
  EXPECT_EQ(db->artifactsForBuild(old.id).size(), 2u);
  EXPECT_EQ(db->artifactBytesForBuild(old.id), 0);
  // The logs were not touched (no log rule), nor any build row.
  EXPECT_EQ(logText(old), "some output of a\n");
  EXPECT_EQ(db->getBuild(old.id)->logsRemovedAt, 0);
  // A second round finds nothing more.
  EXPECT_EQ(janitor->runRound().artifacts, 0);
}

TEST_F(Retention, EachBuilderKeepsItsNewestBuildsWithArtifacts) {
  const auto a1 = build("a", kNow - 50, {{"x", 1}});
  const auto a2 = build("a", kNow - 40, {{"x", 1}, {"y", 1}});
  const auto a3 = build("a", kNow - 30, {{"x", 1}});
  const auto a4 = build("a", kNow - 20);  // stored nothing: does not count
  const auto a5 = build("a", kNow - 10, {{"x", 1}});
  const auto a6 = build("a", 0, {{"x", 1}});  // running: neither counted nor removed
  const auto b1 = build("b", kNow - 50, {{"x", 1}});
  RetentionConfig c;
  c.artifacts.keepBuildsPerBuilder = 2;
  const RetentionRound r = run(c);
  EXPECT_EQ(r.artifacts, 3);  // a1 x, a2 x and y
  EXPECT_FALSE(fileOf(a1, "x"));
  EXPECT_FALSE(fileOf(a2, "x"));
  EXPECT_FALSE(fileOf(a2, "y"));
  EXPECT_EQ(removedBy(a2, "y"), "artifacts.keep_builds_per_builder=2");
  EXPECT_TRUE(fileOf(a3, "x"));
  EXPECT_TRUE(fileOf(a5, "x"));
  EXPECT_TRUE(fileOf(a6, "x"));
  EXPECT_TRUE(fileOf(b1, "x")) << "b has one build: under its count";
  EXPECT_TRUE(db->getBuild(a4.id));
  // Once a6 finishes, a3 is the third newest and goes.
  db->finishBuild(a6.id, Result::Success, "ok", kNow);
  EXPECT_EQ(janitor->runRound().artifacts, 1);
  EXPECT_FALSE(fileOf(a3, "x"));
  EXPECT_TRUE(fileOf(a5, "x"));
}

TEST_F(Retention, TheOldestArtifactsGoUntilTheTotalIsUnderTheCap) {
  std::vector<db::BuildRecord> builds;
  for (int i = 0; i < 5; ++i) builds.push_back(build(i % 2 ? "a" : "b", kNow - 100 + i, {{"f", 100}}));
  const auto running = build("a", 0, {{"f", 300}});  // counts toward the total, cannot go
  RetentionConfig c;
  c.artifacts.maxTotalBytes = 650;  // 800 stored: 150 too many, the two oldest go
  const RetentionRound r = run(c);
  EXPECT_EQ(r.artifacts, 2);
  EXPECT_EQ(r.artifactBytes, 200);
  EXPECT_FALSE(fileOf(builds[0], "f"));
  EXPECT_FALSE(fileOf(builds[1], "f"));
  EXPECT_TRUE(fileOf(builds[2], "f"));
  EXPECT_EQ(removedBy(builds[1], "f"), "artifacts.max_total_mb=0");  // 650 bytes shows as 0 MiB
  EXPECT_EQ(db->keptArtifactBytes(master), 600);
  // Under a cap only the running build's artifact could meet, every
  // finished one goes and the round still ends.
  c.artifacts.maxTotalBytes = 100;
  janitor->configure(c);
  EXPECT_EQ(janitor->runRound().artifacts, 3);
  EXPECT_TRUE(fileOf(running, "f"));
}

TEST_F(Retention, OnlyThisMastersArtifactsAreTouched) {
  const auto other = db->registerMaster("other", 1);
  const auto theirs = build("a", kNow - 10 * kDay, {{"f", 1}}, other);
  const auto mine = build("a", kNow - 10 * kDay, {{"f", 1}});
  RetentionConfig c;
  c.artifacts.maxAgeDays = 1;
  c.logs.maxAgeDays = 1;
  const RetentionRound r = run(c);
  EXPECT_EQ(r.artifacts, 1);
  EXPECT_FALSE(fileOf(mine, "f"));
  EXPECT_TRUE(fileOf(theirs, "f")) << "its file is in the other master's directory";
  EXPECT_EQ(r.logBuilds, 2) << "logs live in the shared database";
}

TEST_F(Retention, LogsPastTheirAgeOrCountLoseTheirTextButKeepTheirRows) {
  const auto a1 = build("a", kNow - 40 * kDay);
  const auto a2 = build("a", kNow - 3 * kDay);
  const auto a3 = build("a", kNow - 2 * kDay);
  const auto a4 = build("a", kNow - 1 * kDay);
  const auto a5 = build("a", 0);  // running
  const auto b1 = build("b", kNow - 3 * kDay);
  db::StatsFilter f;
  f.since = 0;
  const auto statsBefore = db->weeklyStats(f);
  RetentionConfig c;
  c.logs.maxAgeDays = 30;          // a1
  c.logs.keepBuildsPerBuilder = 2;  // then a2 (a3, a4 are a's newest finished two)
  const RetentionRound r = run(c);
  EXPECT_EQ(r.logBuilds, 2);
  EXPECT_EQ(r.logBytes, 2 * static_cast<std::int64_t>(std::string("some output of a\n").size()));
  EXPECT_EQ(r.byRule.at("logs.max_age_days=30"), 1);
  EXPECT_EQ(r.byRule.at("logs.keep_builds_per_builder=2"), 1);
  EXPECT_EQ(logText(a1), "");
  EXPECT_EQ(logText(a2), "");
  EXPECT_EQ(logText(a3), "some output of a\n");
  EXPECT_EQ(logText(a4), "some output of a\n");
  EXPECT_EQ(logText(a5), "some output of a\n");
  EXPECT_EQ(logText(b1), "some output of b\n");
  const auto gone = db->getBuild(a2.id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->logsRemovedAt, kNow);
  EXPECT_EQ(gone->logsRemovedBy, "logs.keep_builds_per_builder=2");
  EXPECT_EQ(db->getBuild(a1.id)->logsRemovedBy, "logs.max_age_days=30");
  // The build, its step and its log row stay; the log says it was removed.
  const auto steps = db->stepsForBuild(a2.id);
  ASSERT_EQ(steps.size(), 1u);
  const auto logs = db->logsForStep(steps[0].id);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].removedAt, kNow);
  EXPECT_EQ(db->getLog(logs[0].id)->removedBy, "logs.keep_builds_per_builder=2");
  EXPECT_EQ(db->getBuild(a3.id)->logsRemovedAt, 0);
  // The statistics read the build rows, which are all still there.
  const auto statsAfter = db->weeklyStats(f);
  ASSERT_EQ(statsAfter.size(), statsBefore.size());
  for (std::size_t i = 0; i < statsAfter.size(); ++i) EXPECT_EQ(statsAfter[i].builds, statsBefore[i].builds);
}

TEST_F(Retention, RulesTogetherAndManyBatchesInOneRound) {
  // 130 old builds of a (more than two batches), each with an artifact.
  std::vector<db::BuildRecord> old;
  for (int i = 0; i < 130; ++i) old.push_back(build("a", kNow - 20 * kDay + i, {{"f", 10}}));
  std::vector<db::BuildRecord> recent;
  for (int i = 0; i < 6; ++i) recent.push_back(build("a", kNow - 100 + i, {{"f", 10}}));
  RetentionConfig c;
  c.artifacts.maxAgeDays = 10;           // the 130 old ones
  c.artifacts.keepBuildsPerBuilder = 5;  // then recent[0]
  c.artifacts.maxTotalBytes = 30;        // then recent[1], recent[2]
  c.logs.maxAgeDays = 10;
  c.logs.keepBuildsPerBuilder = 4;
  const RetentionRound r = run(c);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.byRule.at("artifacts.max_age_days=10"), 130);
  EXPECT_EQ(r.byRule.at("artifacts.keep_builds_per_builder=5"), 1);
  EXPECT_EQ(r.byRule.at("artifacts.max_total_mb=0"), 2);
  EXPECT_EQ(r.artifacts, 133);
  EXPECT_EQ(r.byRule.at("logs.max_age_days=10"), 130);
  EXPECT_EQ(r.byRule.at("logs.keep_builds_per_builder=4"), 2);
  for (const auto& b : old) ASSERT_FALSE(fileOf(b, "f")) << b.number;
  EXPECT_FALSE(fileOf(recent[2], "f"));
  for (int i = 3; i < 6; ++i) EXPECT_TRUE(fileOf(recent[static_cast<std::size_t>(i)], "f")) << i;
  EXPECT_EQ(logText(recent[1]), "");
  EXPECT_EQ(logText(recent[2]), "some output of a\n");
  // The round is recorded: in status and in the database for the next start.
  const Json d = janitor->describe();
  EXPECT_EQ(d["last_run"]["artifacts"], 133);
  EXPECT_EQ(d["last_run"]["log_builds"], 132);
  EXPECT_EQ(RetentionJanitor(*db, *store, clock, master).describe()["last_run"]["artifacts"], 133);
}

TEST_F(Retention, OnTheTimerARoundRunsAtOnceThenEveryInterval) {
  const auto b1 = build("a", kNow - 10 * kDay, {{"f", 1}});
  janitor = std::make_unique<RetentionJanitor>(*db, *store, clock, master);
  RetentionConfig c;
  c.artifacts.maxAgeDays = 5;
  c.interval = std::chrono::minutes(10);
  janitor->configure(c);
  EXPECT_TRUE(janitor->describe()["last_run"].is_null());
  clock.advance(std::chrono::milliseconds(0));
  EXPECT_FALSE(fileOf(b1, "f"));
  EXPECT_EQ(janitor->describe()["last_run"]["artifacts"], 1);
  EXPECT_EQ(janitor->describe()["next_run_at"], kNow + 600);
  // A build that grows old meanwhile goes at the next round, not before.
  const auto b2 = build("a", kNow - 5 * kDay + 300, {{"f", 1}});
  clock.advance(std::chrono::minutes(9));
  EXPECT_TRUE(fileOf(b2, "f"));
  clock.advance(std::chrono::minutes(1));
  EXPECT_FALSE(fileOf(b2, "f"));
  // The same rules again start no extra round; no rules stop the timer.
  janitor->configure(c);
  janitor->configure(RetentionConfig{});
  EXPECT_FALSE(janitor->describe()["enabled"].get<bool>());
  EXPECT_TRUE(janitor->describe()["next_run_at"].is_null());
}

TEST_F(Retention, AFileThatCannotBeDeletedStaysKeptAndTheRoundSaysWhy) {
  const auto b1 = build("a", kNow - 10 * kDay, {{"f", 1}});
  const auto b2 = build("a", kNow - 10 * kDay, {{"g", 1}});
  // A directory where the file should be cannot be removed as one file.
  const std::string path = store->dirFor("a", b1.number) + "/f";
  fs::remove(path);
  fs::create_directories(path + "/inside");
  RetentionConfig c;
  c.artifacts.maxAgeDays = 5;
  c.logs.maxAgeDays = 5;
  const RetentionRound r = run(c);
  EXPECT_NE(r.error.find("cannot delete " + path), std::string::npos) << r.error;
  EXPECT_EQ(removedBy(b1, "f"), "");
  EXPECT_EQ(r.logBuilds, 2) << "the later rules still ran";
  EXPECT_EQ(janitor->describe()["last_run"]["error"], r.error);
  // Once the obstacle is gone, the next round removes it.
  fs::remove_all(path);
  const RetentionRound again = janitor->runRound();
  EXPECT_TRUE(again.error.empty()) << again.error;
  EXPECT_EQ(removedBy(b1, "f"), "artifacts.max_age_days=5");
  EXPECT_EQ(removedBy(b2, "g"), "artifacts.max_age_days=5");
}

}  // namespace
}  // namespace bb
