// Change filter keys of the schedulers: branch, branch_pattern, repository,
// project and category are read into SchedulerEntry::changeFilter, and
// their misuse is an error at its line and column.
#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::expectErrorAt;
using test::kVerifier;

std::string withSchedulers(const std::string& schedulers) {
  return "slaves:\n"
         "  - { name: s1, password: \"" + kVerifier + "\" }\n"
         "builders:\n"
         "  - { name: b1, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "schedulers:\n" + schedulers;
}

using Strings = std::vector<std::string>;

TEST(SchedulerChangeFilter, EveryKeyIsReadAsOnePatternOrAList) {
  auto r = parseMasterConfig(
      withSchedulers(
          "  - { name: s, type: single_branch, branch: main, repository: \"https://git/app\", "
          "project: [app, \"lib*\"], category: ci, builders: [b1] }\n"
          "  - { name: p, type: single_branch, branch_pattern: \"release/*\", builders: [b1] }\n"
          "  - { name: a, type: any_branch, branches: [main, \"feature/**\"], builders: [b1] }\n"
          "  - { name: q, type: any_branch, branch_pattern: [x, y], category: [nightly], builders: [b1] }\n"
          "  - { name: n, type: nightly, cron: \"0 3 * * *\", only_if_changed: true, project: web, "
          "builders: [b1] }\n"
          "  - { name: u, type: nightly, cron: \"0 3 * * *\", branch: stable, builders: [b1] }\n"),
      "ok.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const ChangeFilter& s = r.config->findScheduler("s")->changeFilter;
  EXPECT_EQ(s.branch, std::optional<std::string>("main"));
  EXPECT_TRUE(s.branchPatterns.empty());
  EXPECT_EQ(s.repositories, Strings{"https://git/app"});
  EXPECT_EQ(s.projects, (Strings{"app", "lib*"}));
  EXPECT_EQ(s.categories, Strings{"ci"});
  // Kept in extra too, so a reconfig that changes only a filter is noticed.
  EXPECT_EQ(r.config->findScheduler("s")->extra,
            (Json{{"repository", "https://git/app"}, {"project", {"app", "lib*"}}, {"category", "ci"}}));

  const ChangeFilter& p = r.config->findScheduler("p")->changeFilter;
  EXPECT_FALSE(p.branch.has_value());
  EXPECT_EQ(p.branchPatterns, Strings{"release/*"});

  EXPECT_EQ(r.config->findScheduler("a")->changeFilter.branchPatterns,
            (Strings{"main", "feature/**"}));
  EXPECT_EQ(r.config->findScheduler("q")->changeFilter.branchPatterns, (Strings{"x", "y"}));
  EXPECT_EQ(r.config->findScheduler("q")->changeFilter.categories, Strings{"nightly"});
  EXPECT_EQ(r.config->findScheduler("n")->changeFilter.projects, Strings{"web"});
  // A nightly without only_if_changed builds `branch`; it filters nothing.
  EXPECT_EQ(r.config->findScheduler("u")->branch, std::optional<std::string>("stable"));
  EXPECT_FALSE(r.config->findScheduler("u")->changeFilter.branch.has_value());
}

TEST(SchedulerChangeFilter, MisuseIsAnErrorAtItsPlace) {
  auto r = parseMasterConfig(
      withSchedulers(
          "  - { name: s, type: single_branch, branch: main, branch_pattern: \"release/*\", builders: [b1] }\n"
          "  - { name: a, type: any_branch, project: \"\", builders: [b1] }\n"
          "  - { name: c, type: any_branch, category: [ci, \"\"], builders: [b1] }\n"
          "  - { name: r, type: any_branch, repository: [], builders: [b1] }\n"
          "  - { name: p, type: periodic, interval: 60, project: app, builders: [b1] }\n"
          "  - { name: f, type: force, category: ci, builders: [b1] }\n"
          "  - { name: d, type: dependent, upstream: ok, repository: x, builders: [b1] }\n"
          "  - { name: n, type: nightly, cron: \"0 3 * * *\", branch_pattern: \"r/*\", builders: [b1] }\n"
          "  - { name: b, type: any_branch, branches: [main], branch_pattern: dev, builders: [b1] }\n"
          "  - { name: s3, type: single_branch, builders: [b1] }\n"
          "  - { name: ok, type: single_branch, branch: main, builders: [b1] }\n"),
      "bad.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "scheduler 's': give either branch (one exact name) or branch_pattern", 6, 51);
  expectErrorAt(r.errors, "scheduler 'a': project must not be an empty pattern", 7, 43);
  expectErrorAt(r.errors, "scheduler 'c': category item 2 is an empty pattern", 8, 49);
  expectErrorAt(r.errors, "scheduler 'r': repository is empty; leave it out to accept all", 9, 46);
  expectErrorAt(r.errors,
                "scheduler 'p': project is a change filter, and a periodic scheduler does not look "
                "at changes; remove it",
                10, 46);
  expectErrorAt(r.errors, "scheduler 'f': category is a change filter, and a force scheduler", 11, 29);
  expectErrorAt(r.errors, "scheduler 'd': repository is a change filter, and a dependent scheduler",
                12, 47);
  expectErrorAt(r.errors,
                "scheduler 'n': branch_pattern is a change filter, and a nightly scheduler looks at "
                "changes only with only_if_changed: true",
                13, 50);
  expectErrorAt(r.errors, "scheduler 'b': branches and branch_pattern both limit the branches", 14, 34);
  expectErrorAt(r.errors, "scheduler 's3': missing required key 'branch' (or branch_pattern", 15, 5);
  EXPECT_EQ(r.errors.size(), 10u) << dump(r.errors);
}

TEST(SchedulerChangeFilter, AWrongShapeIsAnError) {
  auto r = parseMasterConfig(
      withSchedulers("  - { name: a, type: any_branch, project: {x: 1}, builders: [b1] }\n"
                     "  - { name: b, type: any_branch, category: , builders: [b1] }\n"),
      "shape.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "scheduler 'a': project must be a list of strings, got a map", 6, 43);
  expectErrorAt(r.errors, "scheduler 'b': category has no value; give a pattern or a list", 7, 34);
  EXPECT_EQ(r.errors.size(), 2u) << dump(r.errors);
}

}  // namespace
}  // namespace bb
