// Nested transactions: savepoints inside, rollback on exception.
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class Transactions : public ::testing::Test {
 protected:
  void SetUp() override { db.upgrade(); }
  Database db{":memory:"};
};

TEST_F(Transactions, CommitKeepsWrites) {
  db.transaction([&] { db.setState("o", "k", 1); });
  EXPECT_EQ(db.getState("o", "k"), Json(1));
  EXPECT_EQ(db.transactionDepth(), 0);
}

TEST_F(Transactions, ReturnsTheFunctionsValue) {
  const int v = db.transaction([&] {
    db.setState("o", "k", 2);
    return 42;
  });
  EXPECT_EQ(v, 42);
}

TEST_F(Transactions, ExceptionRollsBackAndRethrows) {
  db.setState("o", "k", "before");
  EXPECT_THROW(db.transaction([&] {
    db.setState("o", "k", "during");
    db.setState("o", "other", true);
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(db.getState("o", "k"), Json("before"));
  EXPECT_FALSE(db.getState("o", "other").has_value());
  EXPECT_EQ(db.transactionDepth(), 0);
}

TEST_F(Transactions, NestedCommitIsVisibleOnlyAfterOuterCommit) {
  db.begin();
  db.transaction([&] { db.setState("o", "inner", 1); });
  EXPECT_EQ(db.transactionDepth(), 1);
  db.setState("o", "outer", 2);
  db.rollback();
  // Rolling back the outer level undoes the committed inner level too.
  EXPECT_FALSE(db.getState("o", "inner").has_value());
  EXPECT_FALSE(db.getState("o", "outer").has_value());
}

TEST_F(Transactions, InnerRollbackKeepsOuterWork) {
  db.transaction([&] {
    db.setState("o", "outer", 1);
    try {
      db.transaction([&] {
        db.setState("o", "inner", 2);
        throw std::runtime_error("inner failure");
      });
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(db.transactionDepth(), 1);
    db.setState("o", "after", 3);
  });
  EXPECT_EQ(db.getState("o", "outer"), Json(1));
  EXPECT_FALSE(db.getState("o", "inner").has_value());
  EXPECT_EQ(db.getState("o", "after"), Json(3));
}

TEST_F(Transactions, ThreeLevelsDeep) {
  db.begin();
  db.begin();
  db.begin();
  EXPECT_EQ(db.transactionDepth(), 3);
  db.setState("o", "k", 3);
  db.commit();
  db.commit();
  db.commit();
  EXPECT_EQ(db.transactionDepth(), 0);
  EXPECT_EQ(db.getState("o", "k"), Json(3));
}

TEST_F(Transactions, ApiCallsInsideAnOuterTransactionRollBackTogether) {
  // addBuildset opens its own (nested) transaction.
  db.begin();
  BuildsetRecord bs;
  bs.reason = "r";
  const auto [bsid, reqs] = db.addBuildset(bs, {"a", "b"}, 0);
  EXPECT_EQ(reqs.size(), 2u);
  db.rollback();
  EXPECT_FALSE(db.getBuildset(bsid).has_value());
  EXPECT_TRUE(db.pendingRequests().empty());
}

TEST_F(Transactions, UnbalancedCallsThrow) {
  EXPECT_THROW(db.commit(), DbError);
  EXPECT_THROW(db.rollback(), DbError);
}

}  // namespace
}  // namespace bb::db
