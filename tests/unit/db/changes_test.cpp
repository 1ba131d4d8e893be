#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class Changes : public ::testing::Test {
 protected:
  void SetUp() override { db.upgrade(); }
  Database db{":memory:"};
};

ChangeRecord sampleChange(const std::string& rev) {
  ChangeRecord c;
  c.author = "alice <alice@example.org>";
  c.comments = "Fix the frobnicator\n\nLonger text";
  c.branch = "main";
  c.revision = rev;
  c.repository = "/srv/git/app.git";
  c.project = "app";
  c.category = "bugfix";
  c.source = "git_poller:app";
  c.when = 1700000000;
  c.files = {"src/z.cpp", "src/a.cpp", "docs/readme.md"};
  c.properties = {{"owner", "alice"}, {"count", 3}, {"nested", {{"x", {1, 2}}}}};
  return c;
}

TEST_F(Changes, RoundTripWithFilesAndProperties) {
  const ChangeRecord in = sampleChange("abc123");
  const std::int64_t id = db.addChange(in);
  EXPECT_GT(id, 0);
  const auto out = db.getChange(id);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->id, id);
  EXPECT_EQ(out->author, in.author);
  EXPECT_EQ(out->comments, in.comments);
  EXPECT_EQ(out->branch, in.branch);
  EXPECT_EQ(out->revision, in.revision);
  EXPECT_EQ(out->repository, in.repository);
  EXPECT_EQ(out->project, in.project);
  EXPECT_EQ(out->category, in.category);
  EXPECT_EQ(out->source, in.source);
  EXPECT_EQ(out->when, in.when);
  EXPECT_EQ(out->files, in.files);  // order preserved
  EXPECT_EQ(out->properties, in.properties);
}

TEST_F(Changes, MoreThanTenFilesKeepTheirOrder) {
  ChangeRecord c = sampleChange("many");
  c.files.clear();
  for (int i = 0; i < 25; ++i) c.files.push_back("f" + std::to_string((i * 7) % 25));
  const auto out = db.getChange(db.addChange(c));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->files, c.files);
  EXPECT_EQ(out->properties, c.properties);
}

TEST_F(Changes, EmptyFilesAndProperties) {
  ChangeRecord c;
  c.revision = "r";
  const auto out = db.getChange(db.addChange(c));
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->files.empty());
  EXPECT_EQ(out->properties, Json::object());
}

TEST_F(Changes, MissingChange) {
  EXPECT_FALSE(db.getChange(12345).has_value());
  EXPECT_FALSE(db.lastChangeId().has_value());
}

TEST_F(Changes, RecentChangesNewestFirst) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(db.addChange(sampleChange("r" + std::to_string(i))));
  EXPECT_EQ(db.lastChangeId(), ids.back());
  const auto recent = db.recentChanges(3);
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[0].revision, "r4");
  EXPECT_EQ(recent[1].revision, "r3");
  EXPECT_EQ(recent[2].revision, "r2");
  EXPECT_EQ(recent[0].files.size(), 3u);
  EXPECT_EQ(db.recentChanges(100).size(), 5u);
}

TEST_F(Changes, NonObjectPropertiesAreRejected) {
  ChangeRecord c;
  c.properties = Json::array({1, 2});
  EXPECT_THROW(db.addChange(c), DbError);
  EXPECT_FALSE(db.lastChangeId().has_value());
}

}  // namespace
}  // namespace bb::db
