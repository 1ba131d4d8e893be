// Master-scoped locks held through the database (locks_db.cpp): each grant
// is a conditional UPDATE of the lock's row, so several masters together
// never pass a lock's limit; a request's changes are all or nothing; a
// dead master's holds are dropped and counted down.
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class LockHolds : public ::testing::Test {
 protected:
  void SetUp() override {
    db.upgrade();
    a = db.registerMaster("alpha", 100);
    b = db.registerMaster("beta", 100);
  }

  static LockHoldChange take(const std::string& lock, const std::string& owner, LockHold to, int limit = 1,
                             LockHold from = LockHold::None) {
    return LockHoldChange{lock, owner, limit, from, to};
  }
  bool claim(MasterId m, std::vector<LockHoldChange> c) { return !db.changeLockHolds(m, c, 200).has_value(); }
  std::vector<std::string> owners(const std::string& lock) {
    std::vector<std::string> out;
    for (const auto& h : db.lockHolders(lock)) out.push_back(h.masterName + ":" + h.owner);
    return out;
  }

  Database db{":memory:"};
  MasterId a, b;
};

TEST_F(LockHolds, CountingHoldsAcrossMastersStopAtTheLimit) {
  EXPECT_TRUE(claim(a, {take("db", "build x #1", LockHold::Counting, 2)}));
  EXPECT_TRUE(claim(b, {take("db", "build y #1", LockHold::Counting, 2)}));
  EXPECT_FALSE(claim(a, {take("db", "build x #2", LockHold::Counting, 2)})) << "a third holder of 2";
  EXPECT_FALSE(claim(b, {take("db", "build y #2", LockHold::Exclusive)})) << "exclusive while others hold";
  EXPECT_EQ(owners("db"), (std::vector<std::string>{"alpha:build x #1", "beta:build y #1"}));

  EXPECT_TRUE(claim(b, {take("db", "build y #1", LockHold::None, 2, LockHold::Counting)}));
  EXPECT_TRUE(claim(a, {take("db", "build x #2", LockHold::Counting, 2)})) << "the released slot";
  EXPECT_FALSE(claim(b, {take("db", "build y #3", LockHold::Counting, 2)}));
}

TEST_F(LockHolds, AnExclusiveHoldKeepsEveryoneElseOut) {
  EXPECT_TRUE(claim(a, {take("deploy", "build x #1", LockHold::Exclusive)}));
  EXPECT_FALSE(claim(b, {take("deploy", "build y #1", LockHold::Counting, 5)}));
  EXPECT_FALSE(claim(b, {take("deploy", "build y #1", LockHold::Exclusive)}));
  EXPECT_TRUE(claim(a, {take("deploy", "build x #1", LockHold::None, 1, LockHold::Exclusive)}));
  EXPECT_TRUE(claim(b, {take("deploy", "build y #1", LockHold::Counting, 5)}));
}

TEST_F(LockHolds, ARequestIsAllOrNothing) {
  EXPECT_TRUE(claim(b, {take("net", "build y #1", LockHold::Exclusive)}));
  auto refused = db.changeLockHolds(a, {take("db", "build x #1", LockHold::Exclusive),
                                        take("net", "build x #1", LockHold::Counting, 3)}, 200);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(*refused, 1u);
  EXPECT_TRUE(owners("db").empty()) << "the granted half was rolled back";
  EXPECT_TRUE(claim(b, {take("db", "build y #2", LockHold::Exclusive)}));
}

TEST_F(LockHolds, AnOwnerAloneMayGoFromCountingToExclusiveAndBack) {
  EXPECT_TRUE(claim(a, {take("db", "build x #1", LockHold::Counting, 3)}));
  EXPECT_TRUE(claim(a, {take("db", "build x #1", LockHold::Exclusive, 3, LockHold::Counting)}));
  EXPECT_FALSE(claim(b, {take("db", "build y #1", LockHold::Counting, 3)}));
  EXPECT_TRUE(claim(a, {take("db", "build x #1", LockHold::Counting, 3, LockHold::Exclusive)}));
  EXPECT_TRUE(claim(b, {take("db", "build y #1", LockHold::Counting, 3)}));
  EXPECT_FALSE(claim(a, {take("db", "build x #1", LockHold::Exclusive, 3, LockHold::Counting)}))
      << "another holder: no upgrade";
}

TEST_F(LockHolds, DroppingTwiceChangesNothing) {
  EXPECT_TRUE(claim(a, {take("db", "build x #1", LockHold::Counting, 2)}));
  EXPECT_TRUE(claim(b, {take("db", "build y #1", LockHold::Counting, 2)}));
  const auto drop = take("db", "build x #1", LockHold::None, 2, LockHold::Counting);
  EXPECT_TRUE(claim(a, {drop}));
  EXPECT_TRUE(claim(a, {drop}));  // retried after a lost commit
  EXPECT_TRUE(claim(a, {take("db", "build x #2", LockHold::Counting, 2)}));
  EXPECT_FALSE(claim(a, {take("db", "build x #3", LockHold::Counting, 2)})) << "y's slot was not freed";
}

TEST_F(LockHolds, ADeadMastersHoldsAreDroppedAndCountedDown) {
  EXPECT_TRUE(claim(a, {take("db", "build x #1", LockHold::Counting, 2)}));
  EXPECT_TRUE(claim(a, {take("db", "build x #2", LockHold::Counting, 2)}));
  EXPECT_TRUE(claim(a, {take("deploy", "build x #1", LockHold::Exclusive)}));
  EXPECT_TRUE(claim(b, {take("other", "build y #1", LockHold::Exclusive)}));
  EXPECT_FALSE(claim(b, {take("db", "build y #1", LockHold::Counting, 2)}));

  EXPECT_EQ(db.releaseLockHoldsOf(a), 3);
  EXPECT_EQ(owners(""), (std::vector<std::string>{"beta:build y #1"}));
  EXPECT_TRUE(claim(b, {take("db", "build y #1", LockHold::Counting, 2)}));
  EXPECT_TRUE(claim(b, {take("db", "build y #2", LockHold::Counting, 2)}));
  EXPECT_FALSE(claim(b, {take("db", "build y #3", LockHold::Counting, 2)})) << "counted down to 0, not below";
  EXPECT_TRUE(claim(b, {take("deploy", "build y #1", LockHold::Exclusive)}));
  EXPECT_EQ(db.releaseLockHoldsOf(a), 0);
}

TEST_F(LockHolds, InsideAnOuterTransactionARefusalUndoesOnlyItsOwnWork) {
  db.begin();
  db.setState("x", "k", Json(1));
  EXPECT_TRUE(claim(b, {take("db", "build y #1", LockHold::Exclusive)}));
  EXPECT_FALSE(claim(a, {take("db", "build x #1", LockHold::Exclusive)}));
  db.commit();
  EXPECT_EQ(db.getState("x", "k").value_or(Json()), Json(1));
  EXPECT_EQ(owners("db"), (std::vector<std::string>{"beta:build y #1"}));
}

TEST_F(LockHolds, AMasterDeclaredDeadGetsNoNewHold) {
  ASSERT_TRUE(db.declareMasterDead(a, 150));
  EXPECT_FALSE(claim(a, {take("db", "build x #1", LockHold::Counting, 2)}));
  EXPECT_TRUE(owners("db").empty());
  EXPECT_TRUE(claim(b, {take("db", "build y #1", LockHold::Counting, 2)}));
  EXPECT_TRUE(claim(b, {take("db", "build y #2", LockHold::Counting, 2)})) << "the refused claim took no slot";
}

// Fairness across masters: a counting claim that passes marks of other
// masters' waiting exclusive claims since `since`.
TEST_F(LockHolds, AnExclusiveClaimWaitingOnAnotherMasterHoldsBackNewCountingHolds) {
  auto fairClaim = [&](MasterId m, LockHoldChange c, std::int64_t since) {
    return !db.changeLockHolds(m, {std::move(c)}, 200, since).has_value();
  };
  ASSERT_TRUE(fairClaim(a, take("db", "build x #1", LockHold::Counting, 3), 100));
  ASSERT_FALSE(fairClaim(b, take("db", "build y #1", LockHold::Exclusive), 100));
  db.markLockWaiter("db", b, 190);
  EXPECT_EQ(db.lockWaiters("db", a, 100), (std::vector<std::string>{"beta"}));
  EXPECT_TRUE(db.lockWaiters("db", b, 100).empty()) << "a master's own mark is not a waiter to it";
  // Two slots are free, but beta's exclusive claim goes first.
  EXPECT_FALSE(fairClaim(a, take("db", "build x #2", LockHold::Counting, 3), 100));
  EXPECT_TRUE(claim(a, {take("db", "build x #3", LockHold::Counting, 3)})) << "marks not looked at";
  // A mark from before `since` is stale: its waiter stopped asking.
  EXPECT_TRUE(fairClaim(a, take("db", "build x #4", LockHold::Counting, 4), 195));
  // Beta's own counting claims are not held back by its mark.
  ASSERT_TRUE(claim(a, {take("db", "build x #1", LockHold::None, 3, LockHold::Counting),
                        take("db", "build x #3", LockHold::None, 3, LockHold::Counting),
                        take("db", "build x #4", LockHold::None, 4, LockHold::Counting)}));
  EXPECT_TRUE(fairClaim(b, take("db", "build y #2", LockHold::Counting, 3), 100));
  ASSERT_TRUE(claim(b, {take("db", "build y #2", LockHold::None, 3, LockHold::Counting)}));
  // Granted, the exclusive claim's mark is gone.
  EXPECT_TRUE(fairClaim(b, take("db", "build y #1", LockHold::Exclusive), 100));
  EXPECT_TRUE(db.lockWaiters("db", a, 0).empty());
  ASSERT_TRUE(claim(b, {take("db", "build y #1", LockHold::None, 1, LockHold::Exclusive)}));
  EXPECT_TRUE(fairClaim(a, take("db", "build x #5", LockHold::Counting, 3), 100));
}

TEST_F(LockHolds, ADeadMastersWaitingMarkHoldsNothingBack) {
  db.markLockWaiter("db", b, 190);
  ASSERT_TRUE(db.declareMasterDead(b, 150));
  EXPECT_TRUE(db.lockWaiters("db", a, 100).empty());
  EXPECT_FALSE(db.changeLockHolds(a, {take("db", "build x #1", LockHold::Counting, 2)}, 200, 100).has_value());
  // The takeover drops its marks with its holds: restarted, it waits for nothing.
  db.releaseLockHoldsOf(b);
  b = db.registerMaster("beta", 300);
  EXPECT_TRUE(db.lockWaiters("db", a, 0).empty()) << "its old mark went with its holds";
}

// The deadlock rule across masters stores plans (lock_plans_db.cpp): a
// master sees the other active masters' plans, never its own; a plan the
// check refuses is not stored; a dead master stores none and its plans go
// with its holds.
TEST_F(LockHolds, LockPlansAreSeenByTheOtherMastersAndGoWithTheirMaster) {
  std::vector<LockPlanRecord> seen;
  auto accept = [&](const std::vector<LockPlanRecord>& others) {
    seen = others;
    return true;
  };
  EXPECT_TRUE(db.admitLockPlan(a, 7, "plan-a7", 200, accept));
  EXPECT_TRUE(seen.empty());
  EXPECT_TRUE(db.admitLockPlan(b, 3, "plan-b3", 200, accept));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].masterName, "alpha");
  EXPECT_EQ(seen[0].key, 7);
  EXPECT_EQ(seen[0].plan, "plan-a7");
  EXPECT_FALSE(db.admitLockPlan(b, 4, "plan-b4", 200, [](const auto&) { return false; }));
  ASSERT_EQ(db.lockPlans(a).size(), 1u) << "the refused plan was not stored";
  EXPECT_EQ(db.lockPlans(a)[0].plan, "plan-b3");
  EXPECT_TRUE(db.lockPlans(b).size() == 1 && db.lockPlans(b)[0].plan == "plan-a7");

  db.dropLockPlan(b, 3);
  EXPECT_TRUE(db.lockPlans(a).empty());
  ASSERT_TRUE(db.declareMasterDead(a, 150));
  EXPECT_TRUE(db.lockPlans(b).empty()) << "a dead master's plans count for nothing";
  EXPECT_FALSE(db.admitLockPlan(a, 8, "plan-a8", 200, accept)) << "a master declared dead stores no plan";
  db.releaseLockHoldsOf(a);
  a = db.registerMaster("alpha", 300);
  EXPECT_TRUE(db.lockPlans(b).empty()) << "its old plans went with its holds";
}

}  // namespace
}  // namespace bb::db
