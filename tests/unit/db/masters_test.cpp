// Masters: identity and heartbeat, claims and builds that name their
// master, recovery of one master's own work, and the upgrade of a database
// made before masters had identities.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

namespace fs = std::filesystem;

// Writes with a separate raw connection, as an older buildmaster would.
void rawExec(const std::string& file, const char* sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  ASSERT_EQ(sqlite3_close(raw), SQLITE_OK);
}

class Masters : public ::testing::Test {
 protected:
  void SetUp() override { db.upgrade(); }

  std::int64_t request(const std::string& builder) {
    BuildsetRecord bs;
    return db.addBuildset(bs, {builder}, 0).second.at(builder);
  }

  Database db{":memory:"};
};

TEST_F(Masters, RegisteringKeepsOneRowPerName) {
  const MasterId a = db.registerMaster("alpha", 100);
  const MasterId b = db.registerMaster("beta", 101);
  EXPECT_NE(a, b);
  EXPECT_GT(a.value, 0);
  db.masterStopped(a, 150);
  const MasterId again = db.registerMaster("alpha", 200);
  EXPECT_EQ(again, a) << "a restarted master keeps its id";
  const auto m = db.getMaster(a);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->name, "alpha");
  EXPECT_TRUE(m->active);
  EXPECT_EQ(m->startedAt, 200);
  EXPECT_EQ(m->lastHeartbeat, 200);
  ASSERT_EQ(db.masters().size(), 2u);
  EXPECT_EQ(db.masters()[1].name, "beta");
  EXPECT_THROW(db.registerMaster("", 1), DbError);
}

TEST_F(Masters, HeartbeatAndCleanStop) {
  const MasterId a = db.registerMaster("alpha", 100);
  db.masterHeartbeat(a, 110);
  EXPECT_EQ(db.getMaster(a)->lastHeartbeat, 110);
  EXPECT_TRUE(db.getMaster(a)->active);
  db.masterStopped(a, 120);
  EXPECT_FALSE(db.getMaster(a)->active);
  EXPECT_EQ(db.getMaster(a)->lastHeartbeat, 120);
  EXPECT_THROW(db.masterHeartbeat(MasterId{4242}, 1), DbError);
  EXPECT_FALSE(db.getMaster(MasterId{4242}).has_value());
}

TEST_F(Masters, ClaimsAndBuildsNameTheirMaster) {
  const MasterId a = db.registerMaster("alpha", 1);
  const MasterId b = db.registerMaster("beta", 1);
  const auto r = request("x");
  ASSERT_TRUE(db.claimRequest(r, a, 10));
  EXPECT_FALSE(db.claimRequest(r, b, 11)) << "exactly one master wins a claim";
  EXPECT_EQ(db.getRequest(r)->claimedBy, a.value);
  const auto build = db.addBuild(a, r, "x", "s1", 10, Json::object());
  EXPECT_EQ(build.masterId, a.value);
  EXPECT_EQ(db.getBuild(build.id)->masterId, a.value);
  db.unclaimRequest(r, false);
  EXPECT_EQ(db.getRequest(r)->claimedBy, 0) << "an unclaimed request belongs to no master";
  EXPECT_THROW(db.addBuild(MasterId{4242}, r, "x", "s1", 10, Json::object()), DbError)
      << "a build's master must exist";
}

TEST_F(Masters, RecoveryTakesBackOnlyItsOwnWork) {
  const MasterId a = db.registerMaster("alpha", 1);
  const MasterId b = db.registerMaster("beta", 1);
  const auto ra = request("x"), rb = request("x");
  ASSERT_TRUE(db.claimRequest(ra, a, 10));
  ASSERT_TRUE(db.claimRequest(rb, b, 10));
  const auto ba = db.addBuild(a, ra, "x", "s1", 10, Json::object());
  const auto bb = db.addBuild(b, rb, "x", "s2", 10, Json::object());

  const auto mine = db.unfinishedBuildsOf(a);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].id, ba.id);
  EXPECT_EQ(db.unclaimRequestsOf(a), 1);
  EXPECT_FALSE(db.getRequest(ra)->claimed);
  EXPECT_TRUE(db.getRequest(rb)->claimed) << "another master's claim is left alone";
  EXPECT_EQ(db.getRequest(rb)->claimedBy, b.value);

  const auto others = db.otherMastersWork(a);
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].master.name, "beta");
  EXPECT_EQ(others[0].claimedRequests, 1);
  EXPECT_EQ(others[0].unfinishedBuilds, 1);
  db.finishBuild(bb.id, Result::Success, "", 20);
  db.completeRequest(rb, Result::Success, 20);
  EXPECT_TRUE(db.otherMastersWork(a).empty()) << "a master with nothing left is not listed";
}

TEST(MastersUpgrade, WorkFromBeforeMasterIdentitiesIsKeptAndAdopted) {
  char tmpl[] = "/tmp/bb_db_masters_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  const std::string file = (dir / "state.sqlite").string();
  {
    Database old(file);
    old.upgradeTo(3);  // a database made before masters had identities
  }
  // What a version-3 master left when it died, written as it wrote it: a
  // claimed request with a running build, and a pending request.
  rawExec(file,
          "INSERT INTO buildsets (reason, scheduler, ss_repository, ss_branch, ss_revision,"
          " ss_project, properties, submitted_at) VALUES ('old', 's', 'r', 'main', 'abc', 'p', '{}', 5);"
          "INSERT INTO buildrequests (buildset_id, builder, submitted_at, claimed, claimed_at)"
          " VALUES (1, 'x', 5, 1, 6), (1, 'y', 5, 0, 0);"
          "INSERT INTO builds (request_id, builder, number, slave, started_at) VALUES (1, 'x', 1, 's1', 6);");
  {
    Database db(file);
    ASSERT_EQ(db.schemaVersion(), 3);
    db.upgrade();
    ASSERT_EQ(db.schemaVersion(), Database::latestSchemaVersion());
    EXPECT_EQ(db.getBuildset(1)->reason, "old");
    const auto requests = db.requestsForBuildset(1);
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_TRUE(requests[0].claimed);
    EXPECT_EQ(requests[0].claimedBy, 0) << "claimed before masters had ids";
    ASSERT_TRUE(db.getBuild(1).has_value());
    EXPECT_EQ(db.getBuild(1)->masterId, 0);

    // The first master to start adopts that work at recovery.
    const MasterId m = db.registerMaster("m", 10);
    const auto unfinished = db.unfinishedBuildsOf(m);
    ASSERT_EQ(unfinished.size(), 1u);
    EXPECT_EQ(unfinished[0].builder, "x");
    EXPECT_EQ(db.unclaimRequestsOf(m), 1);
    EXPECT_EQ(db.pendingRequests().size(), 2u);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace bb::db

namespace bb::db {
namespace {

class MastersTogether : public ::testing::Test {
 protected:
  void SetUp() override { db.upgrade(); }
  Database db{":memory:"};
};

TEST_F(MastersTogether, ASchedulerIsHeldByOneMasterUntilReleased) {
  const MasterId a = db.registerMaster("alpha", 100);
  const MasterId b = db.registerMaster("beta", 100);
  EXPECT_FALSE(db.schedulerOwner("nightly"));
  EXPECT_TRUE(db.claimScheduler("nightly", a, 101));
  EXPECT_TRUE(db.claimScheduler("nightly", a, 102));  // already its own
  EXPECT_FALSE(db.claimScheduler("nightly", b, 103));
  EXPECT_EQ(db.schedulerOwner("nightly"), a);
  db.releaseScheduler("nightly", b);  // not b's: nothing happens
  EXPECT_EQ(db.schedulerOwner("nightly"), a);
  db.releaseScheduler("nightly", a);
  EXPECT_FALSE(db.schedulerOwner("nightly"));
  EXPECT_TRUE(db.claimScheduler("nightly", b, 104));
  EXPECT_TRUE(db.claimScheduler("periodic", b, 104));
  EXPECT_TRUE(db.claimScheduler("other", a, 104));
  EXPECT_EQ(db.releaseSchedulersOf(b), 2);
  EXPECT_FALSE(db.schedulerOwner("periodic"));
  EXPECT_EQ(db.schedulerOwner("other"), a);
}

TEST_F(MastersTogether, OnlyASilentActiveMasterIsDeclaredDeadAndOnlyOnce) {
  const MasterId a = db.registerMaster("alpha", 100);
  const MasterId b = db.registerMaster("beta", 100);
  const MasterId c = db.registerMaster("gamma", 100);
  db.masterHeartbeat(b, 200);
  db.masterStopped(c, 150);  // stopped cleanly: not dead, not silent
  const auto silent = db.silentMasters(b, 190);
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_EQ(silent[0].id, a.value);
  EXPECT_TRUE(db.silentMasters(a, 190).empty());  // b beat at 200; c stopped
  EXPECT_FALSE(db.declareMasterDead(b, 190));  // its heartbeat is newer
  EXPECT_TRUE(db.declareMasterDead(a, 190));
  EXPECT_FALSE(db.declareMasterDead(a, 190));  // a second survivor finds it done
  EXPECT_FALSE(db.masterStillActive(a));
  EXPECT_TRUE(db.masterStillActive(b));
  EXPECT_TRUE(db.silentMasters(b, 190).empty());
}

// What a master that was not listening may have missed: BuildSets
// completed since a time, leaving out those whose last request it
// completed itself.
TEST_F(Masters, BuildsetsCompletedSinceLeaveOutTheOnesThisMasterCompleted) {
  const MasterId a = db.registerMaster("alpha", 1);
  const MasterId b = db.registerMaster("beta", 1);
  const auto done = [&](MasterId m, std::int64_t at) {
    const auto r = request("x");
    EXPECT_TRUE(db.claimRequest(r, m, at));
    EXPECT_TRUE(db.completeRequest(r, Result::Success, at).has_value());
    return db.getRequest(r)->buildsetId;
  };
  const auto early = done(b, 100);  // before the window
  const auto byB = done(b, 200);
  const auto byA = done(a, 210);
  const auto byB2 = done(b, 220);
  const auto open = db.getRequest(request("x"))->buildsetId;  // not complete
  EXPECT_EQ(db.buildsetsCompletedSince(150, a), (std::vector<std::int64_t>{byB, byB2}));
  EXPECT_EQ(db.buildsetsCompletedSince(150, b), (std::vector<std::int64_t>{byA}));
  EXPECT_EQ(db.buildsetsCompletedSince(0, a), (std::vector<std::int64_t>{early, byB, byB2}));
  EXPECT_TRUE(db.buildsetsCompletedSince(300, a).empty());
  (void)open;
}

TEST_F(Masters, AReportIsClaimedOncePerReporterAndOldClaimsArePruned) {
  const MasterId a = db.registerMaster("alpha", 100);
  const MasterId b = db.registerMaster("beta", 100);
  EXPECT_TRUE(db.claimReport("mail:m", "build.finished 1", a, 100));
  EXPECT_FALSE(db.claimReport("mail:m", "build.finished 1", b, 101));
  EXPECT_FALSE(db.claimReport("mail:m", "build.finished 1", a, 102));  // not twice by its winner either
  EXPECT_TRUE(db.claimReport("irc:m", "build.finished 1", b, 103));    // another reporter
  EXPECT_TRUE(db.claimReport("mail:m", "build.finished 2", b, 500));
  EXPECT_EQ(db.pruneReportClaims(200), 2);
  EXPECT_EQ(db.pruneReportClaims(200), 0);
  EXPECT_FALSE(db.claimReport("mail:m", "build.finished 2", a, 501));
}

}  // namespace
}  // namespace bb::db
