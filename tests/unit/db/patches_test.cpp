// Try patches on a buildset's source stamp (schema version 6).
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

BuildsetRecord tryBuildset(const std::string& jobId, std::string body) {
  BuildsetRecord bs;
  bs.reason = "try";
  bs.scheduler = "try";
  bs.sourcestamp = {"/srv/git/app.git", "main", "abc", "app", {}};
  auto p = std::make_shared<SourcePatch>();
  p->level = 1;
  p->body = std::move(body);
  p->who = "alice";
  p->comment = "please";
  p->jobId = jobId;
  bs.sourcestamp.patch = p;
  bs.submittedAt = 10;
  return bs;
}

TEST(Patches, StoredWithTheBuildsetAndFoundByJobId) {
  Database db(":memory:");
  db.upgrade();
  const std::string body("diff \0\xff binary", 14);
  auto [id, requests] = db.addBuildset(tryBuildset("job-1", body), {"b1"}, 0);
  auto p = db.getBuildsetPatch(id);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->body, body);
  EXPECT_EQ(p->level, 1);
  EXPECT_EQ(p->who, "alice");
  EXPECT_EQ(p->comment, "please");
  EXPECT_EQ(p->jobId, "job-1");
  std::int64_t bytes = 0;
  ASSERT_TRUE(db.getBuildsetPatchInfo(id, &bytes));
  EXPECT_EQ(bytes, 14);
  EXPECT_EQ(db.buildsetForTryJob("job-1"), id);
  EXPECT_FALSE(db.buildsetForTryJob("job-2"));
  EXPECT_FALSE(db.getBuildset(id)->sourcestamp.patch);  // the body is read only on demand
}

TEST(Patches, AJobIdIsStoredOnceAndTheFailedBuildsetLeavesNothing) {
  Database db(":memory:");
  db.upgrade();
  db.addBuildset(tryBuildset("job-1", "x"), {"b1"}, 0);
  try {
    db.addBuildset(tryBuildset("job-1", "y"), {"b1"}, 0);
    FAIL() << "a second buildset for the same job id was stored";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), DbErrorKind::Constraint);
  }
  EXPECT_EQ(db.lastBuildsetId(), 1);
  EXPECT_EQ(db.pendingRequests().size(), 1u);
  // Without a job id, patches do not collide.
  auto a = db.addBuildset(tryBuildset("", "x"), {"b1"}, 0).first;
  auto b = db.addBuildset(tryBuildset("", "y"), {"b1"}, 0).first;
  EXPECT_EQ(db.getBuildsetPatch(b)->body, "y");
  EXPECT_EQ(db.getBuildsetPatch(a)->body, "x");
}

TEST(Patches, Version5UpgradesKeepingItsBuildsets) {
  Database db(":memory:");
  db.upgradeTo(5);
  BuildsetRecord plain = tryBuildset("", "");
  plain.sourcestamp.patch.reset();
  auto old = db.addBuildset(plain, {"b1"}, 0).first;
  db.upgrade();
  EXPECT_EQ(db.schemaVersion(), Database::latestSchemaVersion());
  EXPECT_TRUE(db.getBuildset(old));
  EXPECT_FALSE(db.getBuildsetPatch(old));
}

}  // namespace
}  // namespace bb::db
