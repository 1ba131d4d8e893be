// Builds and steps.
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class Builds : public ::testing::Test {
 protected:
  void SetUp() override {
    db.upgrade();
    master = db.registerMaster("m", 1);
  }

  std::int64_t request(const std::string& builder) {
    BuildsetRecord bs;
    return db.addBuildset(bs, {builder}, 0).second.at(builder);
  }

  Database db{":memory:"};
  MasterId master;
};

TEST_F(Builds, NumbersArePerBuilderStartingAtOne) {
  const auto a1 = db.addBuild(master, request("a"), "a", "s1", 10, Json::object());
  const auto a2 = db.addBuild(master, request("a"), "a", "s2", 11, Json::object());
  const auto b1 = db.addBuild(master, request("b"), "b", "s1", 12, Json::object());
  const auto a3 = db.addBuild(master, request("a"), "a", "s1", 13, Json::object());
  EXPECT_EQ(a1.number, 1);
  EXPECT_EQ(a2.number, 2);
  EXPECT_EQ(b1.number, 1);
  EXPECT_EQ(a3.number, 3);
  EXPECT_NE(a1.id, a2.id);

  const auto byNumber = db.getBuildByNumber("a", 2);
  ASSERT_TRUE(byNumber.has_value());
  EXPECT_EQ(byNumber->id, a2.id);
  EXPECT_EQ(byNumber->slave, "s2");
  EXPECT_FALSE(db.getBuildByNumber("a", 4).has_value());
  EXPECT_FALSE(db.getBuildByNumber("c", 1).has_value());

  const auto last = db.lastBuilds("a", 2);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].number, 3);
  EXPECT_EQ(last[1].number, 2);
}

TEST_F(Builds, RoundTripAndFinish) {
  const auto brid = request("a");
  const Json props = {{"got_revision", "abc"}, {"buildnumber", 1}};
  const auto b = db.addBuild(master, brid, "a", "slave-1", 100, props);
  EXPECT_EQ(b.requestId, brid);
  EXPECT_EQ(b.startedAt, 100);
  EXPECT_FALSE(b.finished);

  auto stored = db.getBuild(b.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->builder, "a");
  EXPECT_EQ(stored->slave, "slave-1");
  EXPECT_EQ(stored->properties, props);
  EXPECT_EQ(db.unfinishedBuildsOf(master).size(), 1u);

  db.setBuildProperties(b.id, Json{{"x", 1}});
  db.finishBuild(b.id, Result::Failure, "failed compile", 150);
  stored = db.getBuild(b.id);
  EXPECT_TRUE(stored->finished);
  EXPECT_EQ(stored->finishedAt, 150);
  EXPECT_EQ(stored->result, Result::Failure);
  EXPECT_EQ(stored->text, "failed compile");
  EXPECT_EQ(stored->properties, (Json{{"x", 1}}));
  EXPECT_TRUE(db.unfinishedBuildsOf(master).empty());

  const auto forRequest = db.buildsForRequest(brid);
  ASSERT_EQ(forRequest.size(), 1u);
  EXPECT_EQ(forRequest[0].id, b.id);
}

TEST_F(Builds, BuildWithoutRequest) {
  const auto b = db.addBuild(master, 0, "adhoc", "s", 1, Json());
  const auto stored = db.getBuild(b.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->requestId, 0);
  EXPECT_EQ(stored->properties, Json::object());
  EXPECT_EQ(db.builderNames(), std::vector<std::string>{"adhoc"});
}

TEST_F(Builds, UnknownRequestOrBuildIsAnError) {
  EXPECT_THROW(db.addBuild(master, 99999, "a", "s", 1, Json::object()), DbError);
  EXPECT_THROW(db.finishBuild(99999, Result::Success, "", 1), DbError);
  EXPECT_THROW(db.setBuildProperties(99999, Json::object()), DbError);
  EXPECT_FALSE(db.getBuild(99999).has_value());
}

TEST_F(Builds, StepsInNumberOrder) {
  const auto b = db.addBuild(master, request("a"), "a", "s", 1, Json::object());
  const auto s2 = db.addStep(b.id, 2, "compile", 20);
  const auto s1 = db.addStep(b.id, 1, "git", 10);
  db.finishStep(s1, Result::Success, "updated", 15);
  db.finishStep(s2, Result::Warnings, "3 warnings", 30);
  const auto steps = db.stepsForBuild(b.id);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].id, s1);
  EXPECT_EQ(steps[0].name, "git");
  EXPECT_EQ(steps[0].startedAt, 10);
  EXPECT_EQ(steps[0].finishedAt, 15);
  EXPECT_TRUE(steps[0].finished);
  EXPECT_EQ(steps[1].id, s2);
  EXPECT_EQ(steps[1].result, Result::Warnings);
  EXPECT_EQ(steps[1].text, "3 warnings");
  EXPECT_EQ(steps[1].buildId, b.id);
  // Step numbers are unique per build.
  EXPECT_THROW(db.addStep(b.id, 1, "again", 40), DbError);
  EXPECT_THROW(db.finishStep(99999, Result::Success, "", 1), DbError);
}

}  // namespace
}  // namespace bb::db
