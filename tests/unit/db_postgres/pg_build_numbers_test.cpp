// Build numbers with several masters on one PostgreSQL database: two
// sessions (two masters) starting a build of the same builder at the same
// instant both read the same max(number); the second must still get the
// next number instead of failing on UNIQUE (builder, number). And report
// claims: of two masters claiming one report, one wins.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "master/db/database.hpp"
#include "tests/unit/db_postgres/pg_test_cluster.hpp"

namespace bb::db {
namespace {

std::string numbersDatabase() {
  const std::string url = pgtest::freshDatabase("numbers");
  Database(url).upgradeTo(Database::latestSchemaVersion());
  return url;
}

TEST(PgBuildNumbers, TwoMastersStartingABuildOfOneBuilderAtOnceGetTwoNumbers) {
  const std::string url = numbersDatabase();
  Database first(url), second(url);
  const MasterId ma = first.registerMaster("ma", 1);
  const MasterId mb = second.registerMaster("mb", 1);

  // Master A's build start is in a transaction that has inserted number 1
  // and not committed yet; master B starts a build of the same builder
  // meanwhile: its insert reads the same max(), meets A's row and waits
  // for A's transaction, then must take number 2.
  BuildRecord a, b;
  std::future<BuildRecord> other;
  first.transaction([&] {
    a = first.addBuild(ma, 0, "b1", "s1", 10, Json::object());
    other = std::async(std::launch::async, [&] { return second.addBuild(mb, 0, "b1", "s2", 10, Json::object()); });
    // B's insert blocks on A's uncommitted row until this commits.
    EXPECT_EQ(other.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  });
  ASSERT_NO_THROW(b = other.get());
  EXPECT_EQ(a.number, 1);
  EXPECT_EQ(b.number, 2);
  EXPECT_NE(a.id, b.id);
  const auto builds = first.lastBuilds("b1", 10);
  ASSERT_EQ(builds.size(), 2u);
  // Another builder starts from 1.
  EXPECT_EQ(second.addBuild(mb, 0, "b2", "s2", 11, Json::object()).number, 1);
}

// Two masters claiming one report: exactly one claim wins, on each
// engine's conflict rule, while the other session's insert waits for the
// first to commit.
TEST(PgReportClaims, OfTwoMastersClaimingOneReportExactlyOneWins) {
  const std::string url = numbersDatabase();
  Database first(url), second(url);
  const MasterId ma = first.registerMaster("ma", 1);
  const MasterId mb = second.registerMaster("mb", 1);
  bool mineA = false;
  std::future<bool> mineB;
  first.transaction([&] {
    mineA = first.claimReport("mail:m", "build.finished 7", ma, 100);
    mineB = std::async(std::launch::async, [&] { return second.claimReport("mail:m", "build.finished 7", mb, 100); });
    EXPECT_EQ(mineB.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  });
  EXPECT_TRUE(mineA);
  EXPECT_FALSE(mineB.get());
  EXPECT_TRUE(second.claimReport("mail:other", "build.finished 7", mb, 100));
  EXPECT_EQ(second.pruneReportClaims(101), 2);
  EXPECT_TRUE(second.claimReport("mail:m", "build.finished 7", mb, 200));
}

}  // namespace
}  // namespace bb::db
