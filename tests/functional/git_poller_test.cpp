// The git poller with a real repository and master: named branches and
// patterns polled with one fetch, a branch that newly matches a pattern is
// noticed and built, a branch outside the patterns is not, and a restart
// repeats nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// branch|revision of every change, in id order.
std::vector<std::string> changes(const MasterProcess& m) {
  std::vector<std::string> out;
  for (const auto& row : sqlite(m.dbPath(), "SELECT branch, revision FROM changes ORDER BY id"))
    out.push_back(row[0] + "|" + row[1]);
  return out;
}

TEST(GitPoller, PatternsNoticeNewBranchesAndARestartRepeatsNothing) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  GitRepo repo(tmp.sub("repo"));
  repo.init();
  repo.commit("README", "one\n", "first");
  repo.git({"branch", "release/1.0"});
  master.create();
  master.writeConfig("master: {name: gp, slave_port: " + std::to_string(master.port()) + "}\n"
                     "change_sources: [{name: app, type: git_poller, repo: " + q(repo.path()) +
                     ", branches: [main, \"release/*\"], interval: 1}]\n");
  master.start();
  ASSERT_TRUE(master.waitForLog("watching release/1.0")) << master.log();
  ASSERT_TRUE(master.waitForLog("watching main")) << master.log();
  EXPECT_TRUE(changes(master).empty());

  // A commit on main, a new branch matching the pattern (its head builds),
  // a branch no pattern matches (nothing), then a commit on the new branch.
  const std::string onMain = repo.commit("a.c", "a\n", "on main");
  repo.git({"checkout", "-q", "-b", "release/2.0"});
  const std::string onRelease = repo.commit("b.c", "b\n", "release 2.0 starts");
  repo.git({"checkout", "-q", "-b", "feature/x"});
  repo.commit("c.c", "c\n", "not watched");
  ASSERT_TRUE(waitFor([&] { return changes(master).size() >= 2; }, 30s)) << master.log();
  repo.git({"checkout", "-q", "release/2.0"});
  const std::string second = repo.commit("b.c", "b2\n", "release 2.0 fix");
  ASSERT_TRUE(waitFor([&] { return changes(master).size() >= 3; }, 30s)) << master.log();
  std::vector<std::string> got = changes(master);
  std::sort(got.begin(), got.begin() + 2);  // the first two came from one poll
  std::vector<std::string> want{"main|" + onMain, "release/2.0|" + onRelease};
  std::sort(want.begin(), want.end());
  want.push_back("release/2.0|" + second);
  EXPECT_EQ(got, want) << master.log();

  // Stopped; a commit while it is down; started: only that one is new.
  ASSERT_EQ(master.stop(), 0);
  const std::string whileDown = repo.commit("b.c", "b3\n", "while down");
  master.start();
  ASSERT_TRUE(waitFor([&] { return changes(master).size() >= 4; }, 30s)) << master.log();
  std::this_thread::sleep_for(2500ms);  // two more polls: nothing repeated
  got = changes(master);
  ASSERT_EQ(got.size(), 4u) << master.log();
  EXPECT_EQ(got[3], "release/2.0|" + whileDown);
  for (const auto& c : got) EXPECT_EQ(c.find("feature/"), std::string::npos) << c;
}

TEST(GitPoller, AMissingNamedBranchIsReportedAndTheOthersStillPoll) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  GitRepo repo(tmp.sub("repo"));
  repo.init();
  repo.commit("README", "one\n", "first");
  master.create();
  master.writeConfig("master: {name: gp, slave_port: " + std::to_string(master.port()) + "}\n"
                     "change_sources: [{name: app, type: git_poller, repo: " + q(repo.path()) +
                     ", branches: [main, nosuch], interval: 1}]\n");
  master.start();
  ASSERT_TRUE(master.waitForLog("watching main")) << master.log();
  ASSERT_TRUE(master.waitForLog("nosuch failed")) << master.log();
  const std::string rev = repo.commit("a.c", "a\n", "on main");
  ASSERT_TRUE(waitFor([&] { return changes(master).size() == 1; }, 30s)) << master.log();
  EXPECT_EQ(changes(master)[0], "main|" + rev);
}

}  // namespace
}  // namespace bb::test
