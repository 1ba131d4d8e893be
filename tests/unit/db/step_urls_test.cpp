// A step's named URLs (schema version 7).
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

std::int64_t aBuild(Database& db, MasterId master) {
  BuildsetRecord bs;
  const auto req = db.addBuildset(bs, {"b1"}, 0).second.at("b1");
  return db.addBuild(master, req, "b1", "s1", 10, Json::object()).id;
}

TEST(StepUrls, StoredInOrderAndReadWithTheStep) {
  Database db(":memory:");
  db.upgrade();
  const auto build = aBuild(db, db.registerMaster("m", 1));
  const auto step = db.addStep(build, 1, "test", 11);
  EXPECT_EQ(db.getStep(step)->urls, Json::array());
  const Json urls = Json::array({Json{{"name", "report"}, {"url", "https://ci/r/1"}},
                                 Json{{"name", "a <b>"}, {"url", "javascript:alert(1)"}}});
  db.setStepUrls(step, urls);
  EXPECT_EQ(db.getStep(step)->urls, urls);
  EXPECT_EQ(db.stepsForBuild(build).at(0).urls, urls);
  EXPECT_THROW(db.setStepUrls(step + 100, urls), DbError);
}

TEST(StepUrls, Version6UpgradesKeepingItsStepsWithNoUrls) {
  Database db(":memory:");
  db.upgradeTo(6);  // as a master before version 7 left it
  const auto build = aBuild(db, db.registerMaster("m", 1));
  const auto step = db.addStep(build, 1, "compile", 11);
  db.finishStep(step, Result::Success, "exit code 0", 12);
  db.upgrade();
  EXPECT_EQ(db.schemaVersion(), Database::latestSchemaVersion());
  const auto s = db.getStep(step);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->text, "exit code 0");
  EXPECT_EQ(s->urls, Json::array());
  db.setStepUrls(step, Json::array({Json{{"name", "n"}, {"url", "/x"}}}));
  EXPECT_EQ(db.getStep(step)->urls.size(), 1u);
}

}  // namespace
}  // namespace bb::db
