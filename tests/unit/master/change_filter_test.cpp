// globMatch, isImportant and ChangeFilter matching; then the filter as
// every change-listening scheduler applies it, against an in-memory
// database and a ManualClock (no test sleeps).
#include "master/schedulers/change_filter.hpp"

#include <gtest/gtest.h>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/events/event_bus.hpp"
#include "master/changes/change_bus.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/scheduler_set.hpp"

namespace bb {
namespace {

using namespace std::chrono_literals;

TEST(GlobMatch, StarStaysInOneSegment) {
  EXPECT_TRUE(globMatch("src/*.c", "src/main.c"));
  EXPECT_FALSE(globMatch("src/*.c", "src/sub/main.c"));
  EXPECT_FALSE(globMatch("*.c", "src/main.c"));
}

TEST(GlobMatch, DoubleStarSpansSegments) {
  EXPECT_TRUE(globMatch("src/**", "src/a/b/c.c"));
  EXPECT_TRUE(globMatch("**/*.md", "README.md"));
  EXPECT_TRUE(globMatch("**/*.md", "docs/a/b.md"));
  EXPECT_TRUE(globMatch("src/**/test_*.c", "src/test_a.c"));
  EXPECT_TRUE(globMatch("src/**/test_*.c", "src/x/y/test_a.c"));
  EXPECT_FALSE(globMatch("src/**", "lib/a.c"));
}

TEST(GlobMatch, QuestionMark) {
  EXPECT_TRUE(globMatch("a?c", "abc"));
  EXPECT_FALSE(globMatch("a?c", "a/c"));
  EXPECT_FALSE(globMatch("a?c", "ac"));
}

TEST(IsImportant, IncludeAndExclude) {
  FileFilter f{{"src/**"}, {"src/docs/**"}};
  EXPECT_TRUE(isImportant(f, {"src/main.c"}));
  EXPECT_FALSE(isImportant(f, {"src/docs/x.md"}));
  EXPECT_FALSE(isImportant(f, {"README.md"}));
  EXPECT_TRUE(isImportant(f, {"README.md", "src/a.c"}));
}

TEST(IsImportant, OnlyExcludeMeansEverythingElse) {
  FileFilter f{{}, {"docs/**"}};
  EXPECT_TRUE(isImportant(f, {"src/a.c"}));
  EXPECT_FALSE(isImportant(f, {"docs/a.md", "docs/b.md"}));
}

TEST(IsImportant, NoFilterOrNoFilesIsImportant) {
  EXPECT_TRUE(isImportant(FileFilter{}, {"anything"}));
  EXPECT_TRUE(isImportant(FileFilter{{"src/**"}, {}}, {}));
}

db::ChangeRecord rec(std::string branch, std::string repository = "https://git/app",
                     std::string project = "app", std::string category = "ci") {
  db::ChangeRecord c;
  c.branch = std::move(branch);
  c.repository = std::move(repository);
  c.project = std::move(project);
  c.category = std::move(category);
  return c;
}

TEST(ChangeFilterMatches, EmptyFilterAcceptsEverything) {
  std::string why;
  EXPECT_TRUE(matches(ChangeFilter{}, rec("anything", "", "", ""), why));
  EXPECT_EQ(why, "");
}

TEST(ChangeFilterMatches, ExactBranch) {
  ChangeFilter f;
  f.branch = "main";
  std::string why;
  EXPECT_TRUE(matches(f, rec("main"), why));
  EXPECT_FALSE(matches(f, rec("main2"), why));
  EXPECT_EQ(why, "branch 'main2' is not 'main'");
}

TEST(ChangeFilterMatches, BranchPatternsAreGlobs) {
  ChangeFilter f;
  f.branchPatterns = {"release/*", "main"};
  std::string why;
  EXPECT_TRUE(matches(f, rec("release/1.0"), why));
  EXPECT_TRUE(matches(f, rec("main"), why));
  EXPECT_FALSE(matches(f, rec("release/1.0/fix"), why));  // * stays in one segment
  EXPECT_EQ(why, "branch 'release/1.0/fix' matches none of release/*, main");
  EXPECT_FALSE(matches(f, rec("mainline"), why));  // no wildcard: exact
}

TEST(ChangeFilterMatches, RepositoryProjectCategoryEachMustMatch) {
  ChangeFilter f;
  f.repositories = {"https://git/**"};
  f.projects = {"app"};
  f.categories = {"ci", "release-*"};
  std::string why;
  EXPECT_TRUE(matches(f, rec("x"), why));
  EXPECT_TRUE(matches(f, rec("x", "https://git/org/app.git", "app", "release-7"), why));
  EXPECT_FALSE(matches(f, rec("x", "ssh://other/app"), why));
  EXPECT_EQ(why, "repository 'ssh://other/app' does not match 'https://git/**'");
  EXPECT_FALSE(matches(f, rec("x", "https://git/app", "web"), why));
  EXPECT_EQ(why, "project 'web' does not match 'app'");
  EXPECT_FALSE(matches(f, rec("x", "https://git/app", "app", "nightly"), why));
  EXPECT_EQ(why, "category 'nightly' matches none of ci, release-*");
  EXPECT_FALSE(matches(f, rec("x", "https://git/app", "", "ci"), why));
  EXPECT_EQ(why, "project '' does not match 'app'");
}

TEST(ChangeFilterMatches, BranchIsCheckedFirst) {
  ChangeFilter f;
  f.branch = "main";
  f.projects = {"app"};
  std::string why;
  EXPECT_FALSE(matches(f, rec("dev", "r", "web"), why));
  EXPECT_EQ(why, "branch 'dev' is not 'main'");
}

// The filter as the Scheduler base applies it, before the type's own rule.
class FilteredSchedulersTest : public ::testing::Test {
 protected:
  FilteredSchedulersTest() : db(":memory:"), buildsets(db, events), bus(db, events) { db.upgrade(); }

  static SchedulerEntry entry(const std::string& name, const std::string& type) {
    SchedulerEntry e;
    e.name = name;
    e.type = type;
    e.builders = {"b1"};
    return e;
  }

  std::int64_t change(const std::string& branch, const std::string& project,
                      const std::string& category = "", std::vector<std::string> files = {"src/a.c"}) {
    db::ChangeRecord c;
    c.author = "dev";
    c.branch = branch;
    c.repository = "https://git/app";
    c.project = project;
    c.category = category;
    c.revision = "r" + std::to_string(++revs);
    c.files = std::move(files);
    c.source = "sendchange";
    return bus.addChange(c);
  }

  // decision + ": " + reason of `scheduler` about `changeId`, or "none".
  std::string decision(std::int64_t changeId, const std::string& scheduler) {
    for (const auto& d : db.decisionsForChange(changeId))
      if (d.scheduler == scheduler) return d.decision + ": " + d.reason;
    return "none";
  }

  std::vector<db::BuildsetRecord> all() {
    std::vector<db::BuildsetRecord> out;
    for (std::int64_t id = 1; id < 100; ++id)
      if (auto bs = db.getBuildset(id)) out.push_back(*bs);
    return out;
  }

  db::Database db;
  ManualClock clock;
  int revs = 0;
  EventBus events{clock, [](std::function<void()> fn) { fn(); },
                 [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService buildsets;
  ChangeBus bus;
};

TEST_F(FilteredSchedulersTest, SingleBranchBuildsOnlyChangesThatPassItsFilter) {
  auto e = entry("app", "single_branch");
  e.branch = "main";
  e.changeFilter.projects = {"app"};
  SchedulerSet set({db, clock, buildsets, "", nullptr}, bus);
  set.configure({e});
  const auto web = change("main", "web");
  const auto dev = change("dev", "app");
  const auto ok = change("main", "app");
  ASSERT_EQ(all().size(), 1u);
  EXPECT_EQ(all()[0].sourcestamp.changeIds, std::vector<std::int64_t>{ok});
  EXPECT_EQ(decision(web, "app"), "ignored: project 'web' does not match 'app'");
  EXPECT_EQ(decision(dev, "app"), "ignored: branch 'dev' is not 'main'");
  EXPECT_EQ(decision(ok, "app"), "important: ");
}

TEST_F(FilteredSchedulersTest, SingleBranchWithBranchPatternCollectsMatchingBranches) {
  auto e = entry("rel", "single_branch");
  e.changeFilter.branchPatterns = {"release/*"};
  e.treeStableTimer = 10;
  SchedulerSet set({db, clock, buildsets, "", nullptr}, bus);
  set.configure({e});
  const auto a = change("release/1", "app");
  const auto other = change("dev", "app");
  const auto b = change("release/2", "app");
  clock.advance(11s);
  auto bs = all();
  ASSERT_EQ(bs.size(), 1u);
  EXPECT_EQ(bs[0].sourcestamp.changeIds, (std::vector<std::int64_t>{a, b}));
  EXPECT_EQ(decision(other, "rel"), "ignored: branch 'dev' does not match 'release/*'");
}

TEST_F(FilteredSchedulersTest, AnyBranchFiltersBeforeItsPerBranchTimers) {
  auto e = entry("any", "any_branch");
  e.changeFilter.categories = {"ci"};
  e.extra["branches"] = Json::array({"main", "feature/**"});
  e.treeStableTimer = 5;
  SchedulerSet set({db, clock, buildsets, "", nullptr}, bus);
  set.configure({e});
  const auto m = change("main", "app", "ci");
  const auto f = change("feature/a/b", "app", "ci");
  const auto docs = change("main", "app", "docs");
  const auto rel = change("release", "app", "ci");
  clock.advance(6s);
  EXPECT_EQ(all().size(), 2u);  // main and feature/a/b, each on its own
  EXPECT_EQ(decision(m, "any"), "important: ");
  EXPECT_EQ(decision(f, "any"), "important: ");
  EXPECT_EQ(decision(docs, "any"), "ignored: category 'docs' does not match 'ci'");
  EXPECT_EQ(decision(rel, "any"), "ignored: branch 'release' matches none of main, feature/**");
}

TEST_F(FilteredSchedulersTest, NightlyOnlyIfChangedCountsOnlyChangesThatPass) {
  auto e = entry("nightly", "nightly");
  e.extra = Json{{"cron", "0 3 * * *"}, {"only_if_changed", true}};
  e.changeFilter.projects = {"app"};
  clock.setWall(WallTime(std::chrono::sys_days(std::chrono::year(2024) / 1 / 10)));  // midnight
  SchedulerSet set({db, clock, buildsets, "", nullptr}, bus);
  set.configure({e});
  const auto web = change("main", "web");
  clock.advance(4h);  // 03:00 passed: the only change was filtered out
  EXPECT_EQ(all().size(), 0u);
  EXPECT_EQ(decision(web, "nightly"), "ignored: project 'web' does not match 'app'");
  const auto app = change("main", "app");
  clock.advance(24h);
  ASSERT_EQ(all().size(), 1u);
  EXPECT_EQ(all()[0].sourcestamp.changeIds, std::vector<std::int64_t>{app});
}

TEST_F(FilteredSchedulersTest, AFilteredOutChangeDoesNotRestartARunningTimer) {
  auto e = entry("quiet", "single_branch");
  e.branch = "main";
  e.changeFilter.projects = {"app"};
  e.treeStableTimer = 10;
  SchedulerSet set({db, clock, buildsets, "", nullptr}, bus);
  set.configure({e});
  change("main", "app");
  clock.advance(8s);
  change("main", "web");  // not for this scheduler: the timer keeps its deadline
  clock.advance(3s);
  EXPECT_EQ(all().size(), 1u);
}

}  // namespace
}  // namespace bb
