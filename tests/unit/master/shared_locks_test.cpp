// Two masters' LockManagers on one database (SharedLocks, the database
// decides across masters): a grant is refused while the other master holds
// what the limit allows, the waiting request says where the lock is held,
// and it is granted once that master releases (bb_lock, here the announce
// hook) or is declared dead (its holds dropped). The database is real (an
// in-memory SQLite file shared by both managers); time is a ManualClock.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "common/event_loop.hpp"
#include "master/cluster/shared_locks.hpp"
#include "master/db/database.hpp"
#include "master/locks/lock_manager.hpp"

namespace bb {
namespace {

LockEntry masterLock(const std::string& name, int maxCount) {
  LockEntry e;
  e.name = name;
  e.scope = "master";
  e.maxCount = maxCount;
  return e;
}

struct OneMaster {
  OneMaster(db::Database& db, Clock& clock, const std::string& name, std::function<void()> announce)
      : id(db.registerMaster(name, 100)),
        claims(db, clock, id, [this](std::function<void()> fn) { posted.push_back(std::move(fn)); },
               std::move(announce), std::chrono::seconds(30)),
        locks(clock) {
    locks.setClaims(&claims);
    locks.configure({masterLock("db", 2), masterLock("deploy", 1)});
  }
  // What the master's loop would run next (the coalesced announcement).
  void runPosted() {
    auto due = std::move(posted);
    posted.clear();
    for (auto& fn : due) fn();
  }
  RequestId take(const std::string& lock, const std::string& access, const std::string& owner) {
    auto r = locks.acquire({{lock, access}}, "", owner, [this, owner] { grantedLater.push_back(owner); });
    if (r.granted) grantedNow.push_back(owner);
    return r.id;
  }

  db::MasterId id;
  std::vector<std::function<void()>> posted;
  SharedLocks claims;
  LockManager locks;
  std::vector<std::string> grantedNow, grantedLater;
};

struct Upgraded {
  explicit Upgraded(db::Database& db) { db.upgrade(); }
};

class SharedLocksTest : public ::testing::Test {
 protected:
  ManualClock clock;
  db::Database db{":memory:"};
  Upgraded upgraded{db};  // before the masters register
  int announcedByA = 0, announcedByB = 0;
  OneMaster a{db, clock, "alpha", [this] { ++announcedByA; }};
  OneMaster b{db, clock, "beta", [this] { ++announcedByB; }};
};

TEST_F(SharedLocksTest, TheLimitHoldsAcrossMastersAndAReleaseWakesTheOther) {
  const RequestId a1 = a.take("db", "counting", "build x #1");
  a.take("db", "counting", "build x #2");
  b.take("db", "counting", "build y #1");
  EXPECT_EQ(a.grantedNow, (std::vector<std::string>{"build x #1", "build x #2"}));
  EXPECT_TRUE(b.grantedNow.empty()) << "alpha holds both slots";
  ASSERT_EQ(b.locks.waiting().size(), 1u);
  const std::string why = b.locks.waitingFor(b.locks.waiting()[0].id);
  EXPECT_NE(why.find("held on master alpha by build x #1, build x #2"), std::string::npos) << why;
  EXPECT_FALSE(b.locks.canAcquireNow({{"db", "counting"}}, "")) << "the distributor sees it busy too";
  EXPECT_EQ(b.locks.holdersElsewhere().size(), 2u);

  a.locks.release(a1);
  a.runPosted();
  EXPECT_EQ(announcedByA, 1);
  b.locks.retryClaims();  // what bb_lock does on beta
  EXPECT_EQ(b.grantedLater, (std::vector<std::string>{"build y #1"}));
  // alpha's own new owner is refused now: beta has the freed slot.
  a.take("db", "counting", "build x #3");
  EXPECT_EQ(a.grantedNow.size(), 2u);
  const std::string whyA = a.locks.waitingFor(a.locks.waiting()[0].id);
  EXPECT_NE(whyA.find("held on master beta by build y #1"), std::string::npos) << whyA;
}

TEST_F(SharedLocksTest, AnExclusiveLockIsHeldByOneOwnerOnAllMasters) {
  const RequestId bx = b.take("deploy", "exclusive", "build y #1");
  a.take("deploy", "exclusive", "build x #1");
  a.take("deploy", "exclusive", "build x #2");
  EXPECT_TRUE(a.grantedNow.empty());
  b.locks.release(bx);
  a.locks.retryClaims();
  EXPECT_EQ(a.grantedLater, (std::vector<std::string>{"build x #1"})) << "FIFO on alpha, one at a time";
  b.take("deploy", "exclusive", "build y #2");
  EXPECT_EQ(b.grantedNow, (std::vector<std::string>{"build y #1"})) << "alpha holds it now";
}

TEST_F(SharedLocksTest, ADeadMastersHoldsAreDroppedByTheTakeover) {
  a.take("db", "counting", "build x #1");
  a.take("db", "counting", "build x #2");
  b.take("db", "counting", "build y #1");
  EXPECT_TRUE(b.grantedNow.empty());
  // alpha dies; beta's takeover drops its holds in the database.
  EXPECT_EQ(db.releaseLockHoldsOf(a.id), 2);
  b.locks.retryClaims();
  EXPECT_EQ(b.grantedLater, (std::vector<std::string>{"build y #1"}));
  EXPECT_TRUE(b.locks.holdersElsewhere().empty());
}

TEST_F(SharedLocksTest, AStepsExclusiveLockOverTheBuildsCountingOneIsAnUpgrade) {
  const RequestId build = a.take("db", "counting", "build x #1");
  const RequestId step = a.take("db", "exclusive", "build x #1");
  EXPECT_EQ(a.grantedNow.size(), 2u) << "alone on every master: the owner upgrades";
  b.take("db", "counting", "build y #1");
  EXPECT_TRUE(b.grantedNow.empty()) << "exclusive on alpha";
  a.locks.release(step);
  b.locks.retryClaims();
  EXPECT_EQ(b.grantedLater, (std::vector<std::string>{"build y #1"})) << "back to counting: a slot is free";
  a.locks.release(build);
  EXPECT_EQ(db.lockHolders("db").size(), 1u);
}

TEST_F(SharedLocksTest, AnExclusiveClaimWaitingOnOneMasterIsNotStarvedByCountingHoldsOnTheOther) {
  // alpha streams counting holds (limit 2) that always overlap; beta's
  // exclusive claim would never see the lock free.
  const RequestId x1 = a.take("db", "counting", "build x #1");
  const RequestId y1 = b.take("db", "exclusive", "build y #1");
  EXPECT_TRUE(b.grantedNow.empty());
  // alpha's next owner is held back although a slot is free, and says why.
  a.take("db", "counting", "build x #2");
  EXPECT_EQ(a.grantedNow, (std::vector<std::string>{"build x #1"}));
  ASSERT_EQ(a.locks.waiting().size(), 1u);
  const std::string why = a.locks.waitingFor(a.locks.waiting()[0].id);
  EXPECT_NE(why.find("an exclusive claim waiting on master beta goes first"), std::string::npos) << why;
  a.locks.release(x1);
  a.runPosted();
  b.locks.retryClaims();  // bb_lock on beta
  EXPECT_EQ(b.grantedLater, (std::vector<std::string>{"build y #1"}));
  a.locks.retryClaims();  // still held back: beta holds it exclusively now
  EXPECT_TRUE(a.grantedLater.empty());
  b.locks.release(y1);
  b.runPosted();
  a.locks.retryClaims();  // bb_lock on alpha
  EXPECT_EQ(a.grantedLater, (std::vector<std::string>{"build x #2"}));
}

TEST_F(SharedLocksTest, AWaiterThatStopsAskingHoldsNothingBackForLong) {
  a.take("db", "counting", "build x #1");
  const RequestId y = b.take("db", "exclusive", "build y #1");
  b.locks.cancel(y);  // its build was cancelled: beta asks no more
  a.take("db", "counting", "build x #2");
  EXPECT_EQ(a.grantedNow.size(), 1u) << "the mark is fresh";
  clock.setWall(clock.wallNow() + std::chrono::seconds(31));
  a.locks.retryClaims();  // alpha's next heartbeat
  EXPECT_EQ(a.grantedLater, (std::vector<std::string>{"build x #2"})) << "the mark is stale now";
}

// The deadlock rule across masters: a build on alpha holding `deploy` for
// its whole run whose step wants `db` exclusively, and a build on beta
// holding `db` whose step wants `deploy`, would each wait for the other in
// a step. Beta's admission reads alpha's stored plan (even when the plans
// it read for its pass are stale) and refuses; once alpha's build ends and
// its plan is dropped (announced on bb_lock), beta's is admitted.
TEST_F(SharedLocksTest, CrossedBuildsOnTwoMastersAreNotAdmittedTogether) {
  LockAdmission ruleA(a.locks), ruleB(b.locks);
  ruleA.setShared(&a.claims);
  ruleB.setShared(&b.claims);
  const BuildLockPlan x{"a build of x", "s1", {{"deploy", "exclusive"}}, {{"db", "exclusive"}}};
  const BuildLockPlan y{"a build of y", "s3", {{"db", "exclusive"}}, {{"deploy", "exclusive"}}};
  ruleB.refreshOthers();  // beta's pass reads before alpha admits
  ASSERT_TRUE(ruleA.admit(1, x));
  EXPECT_EQ(ruleB.whyNot(y), "") << "the plans beta read are stale";
  EXPECT_FALSE(ruleB.admit(5, y)) << "admitting reads them again, in turn";
  const std::string why = ruleB.whyNot(y);
  EXPECT_NE(why.find("a build of x on master alpha"), std::string::npos) << why;
  EXPECT_EQ(ruleB.size(), 0u);
  EXPECT_TRUE(ruleB.admit(6, {"a build of z", "s3", {{"db", "exclusive"}}, {}})) << "no crossing, no cycle";
  EXPECT_TRUE(ruleB.admit(7, {"a build of w", "s3", {}, {{"deploy", "exclusive"}}}))
      << "a build without build locks is not stored";
  EXPECT_EQ(db.lockPlans(a.id).size(), 1u);

  ruleA.remove(1);
  a.runPosted();
  EXPECT_EQ(announcedByA, 1) << "a dropped plan is announced like a release";
  ruleB.remove(6);
  EXPECT_TRUE(ruleB.admit(5, y));
  EXPECT_FALSE(ruleA.admit(2, x)) << "now the other way round";
}

TEST_F(SharedLocksTest, APlanReadsBackAsWrittenAndAnUnreadableOneIsRefused) {
  const BuildLockPlan p{"a build of x", "s1", {{"deploy", "exclusive"}, {"cpu", "counting"}}, {{"db", "counting"}}};
  auto back = SharedLocks::parsePlan(SharedLocks::planText(p), "alpha");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->name, "a build of x on master alpha");
  EXPECT_EQ(back->slave, "s1");
  ASSERT_EQ(back->buildLocks.size(), 2u);
  EXPECT_EQ(back->buildLocks[1].lock, "cpu");
  EXPECT_EQ(back->buildLocks[1].access, "counting");
  ASSERT_EQ(back->stepLocks.size(), 1u);
  EXPECT_EQ(back->stepLocks[0].lock, "db");
  for (const char* bad : {"", "[]", "{\"name\": 1}", "{\"name\": \"n\", \"slave\": \"\", \"build\": [[\"l\"]], "
                          "\"steps\": []}", "{\"name\": \"n\", \"slave\": \"\"}"})
    EXPECT_FALSE(SharedLocks::parsePlan(bad, "alpha").has_value()) << bad;
}

}  // namespace
}  // namespace bb
