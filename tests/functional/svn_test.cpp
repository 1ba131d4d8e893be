// Subversion end to end with real processes and a real repository
// (svnadmin create, file:// URLs): the `svn` step joins the base URL and
// the branch, checks out, updates the same branch in place, checks out
// fresh for another branch (the branch stamp decides), and keeps a
// pristine copy with mode full, method copy.
#include <set>

#include <gtest/gtest.h>

#include "tests/functional/vcs_support.hpp"

namespace bb::test {
namespace {

constexpr const char* kSvnSuccess = "0";

TEST(SvnStep, ChecksOutUpdatesAndSwitchesBranchFresh) {
  VcsEnv e;
  SvnRepo repo(e.tmp.sub("svn"));
  repo.create();
  const std::string r2 = repo.commit("trunk/a.txt", "one\n", "first");
  repo.branchFromTrunk("feature");
  const std::string r4 = repo.commit("branches/feature/feature.txt", "feature\n", "on feature");
  e.up(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
              "      - {svn: {repo: " + q(repo.url()) + "}}\n"
              "      - {shell: {command: \"cat a.txt\"}}\n",
              {"b1"}));

  // 1: no branch: default_branch (trunk).
  ASSERT_EQ(e.force("b1", 1, ""), kSvnSuccess) << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + "/feature.txt"));
  std::string log1 = e.logs("b1", 1);
  EXPECT_NE(log1.find(repo.url() + "/trunk@"), std::string::npos) << log1;
  EXPECT_NE(log1.find("got_revision: " + r2), std::string::npos) << log1;
  EXPECT_EQ(readFile(wd + "/.buildbot-branch"), "trunk\n" + repo.url() + "\n");

  // 2: trunk again updates in place.
  writeFile(wd + "/marker.untracked", "still here\n");
  const std::string r5 = repo.commit("trunk/a.txt", "two\n", "second");
  ASSERT_EQ(e.force("b1", 2, "trunk"), kSvnSuccess) << e.logs("b1", 2);
  std::string log2 = e.logs("b1", 2);
  EXPECT_EQ(readFile(wd + "/a.txt"), "two\n");
  EXPECT_TRUE(fileExists(wd + "/marker.untracked")) << "an update must not check out anew";
  EXPECT_NE(log2.find("updating the svn checkout"), std::string::npos) << log2;
  EXPECT_EQ(log2.find("svn checkout --"), std::string::npos) << log2;
  EXPECT_NE(log2.find("got_revision: " + r5), std::string::npos) << log2;
  EXPECT_NE(e.properties("b1", 2).find(r5), std::string::npos) << e.properties("b1", 2);

  // 3: branches/feature: the stamp says trunk, so the step checks out fresh.
  ASSERT_EQ(e.force("b1", 3, "branches/feature"), kSvnSuccess) << e.logs("b1", 3);
  std::string log3 = e.logs("b1", 3);
  EXPECT_NE(log3.find("branch stamp says 'trunk " + repo.url() +
                      "', this build wants 'branches/feature " + repo.url() +
                      "': checking out fresh"),
            std::string::npos)
      << log3;
  EXPECT_FALSE(fileExists(wd + "/marker.untracked"));
  EXPECT_EQ(readFile(wd + "/feature.txt"), "feature\n");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_NE(log3.find("got_revision: " + r4), std::string::npos) << log3;

  // 4: an old revision of trunk (fresh again: the stamp names the branch).
  ASSERT_EQ(e.force("b1", 4, "trunk", r2), kSvnSuccess) << e.logs("b1", 4);
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
}

TEST(SvnStep, FullCopyKeepsAPristineSourceAndCopiesIt) {
  VcsEnv e;
  SvnRepo repo(e.tmp.sub("svn"));
  repo.create();
  repo.commit("trunk/a.txt", "one\n", "first");
  e.up(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
              "      - {svn: {repo: " + q(repo.url()) + ", mode: full, method: copy}}\n"
              "      - {shell: {command: \"echo built > output.o\"}}\n",
              {"b1"}));
  ASSERT_EQ(e.force("b1", 1, ""), kSvnSuccess) << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_TRUE(fileExists(wd + "/output.o"));
  EXPECT_EQ(readFile(wd + ".source/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + ".source/output.o")) << "builds never touch the source copy";
  writeFile(wd + ".source/marker.untracked", "kept\n");

  repo.commit("trunk/a.txt", "two\n", "second");
  ASSERT_EQ(e.force("b1", 2, ""), kSvnSuccess) << e.logs("b1", 2);
  std::string log2 = e.logs("b1", 2);
  EXPECT_NE(log2.find("updating the svn checkout in " + wd + ".source"), std::string::npos) << log2;
  EXPECT_NE(log2.find("method copy: copying"), std::string::npos) << log2;
  EXPECT_EQ(readFile(wd + "/a.txt"), "two\n");
  EXPECT_TRUE(fileExists(wd + "/marker.untracked")) << "the work dir is a copy of the source";
}

TEST(SvnStep, FullCleanKeepsIgnoredFilesAndRevertsEdits) {
  VcsEnv e;
  SvnRepo repo(e.tmp.sub("svn"));
  repo.create();
  repo.commit("trunk/a.txt", "one\n", "first");
  repo.svn({"update", "-q"});
  repo.svn({"propset", "-q", "svn:ignore", "*.o", "trunk"});
  repo.svn({"commit", "-q", "-m", "ignore"});
  e.up(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
              "      - {svn: {repo: " + q(repo.url()) + ", mode: full, method: clean}}\n",
              {"b1"}));
  ASSERT_EQ(e.force("b1", 1, ""), kSvnSuccess) << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  writeFile(wd + "/marker.untracked", "x\n");
  writeFile(wd + "/keep.o", "ignored\n");
  writeFile(wd + "/a.txt", "local edit\n");
  ASSERT_EQ(e.force("b1", 2, ""), kSvnSuccess) << e.logs("b1", 2);
  EXPECT_FALSE(fileExists(wd + "/marker.untracked"));
  EXPECT_TRUE(fileExists(wd + "/keep.o")) << "method clean keeps ignored files";
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
}

TEST(SvnStep, HostileBranchesAreRefused) {
  VcsEnv e;
  SvnRepo repo(e.tmp.sub("svn"));
  repo.create();
  repo.commit("trunk/a.txt", "one\n", "first");
  e.up(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
              "      - {svn: {repo: " + q(repo.url()) + "}}\n",
              {"b1"}));
  EXPECT_NE(e.force("b1", 1, "-x"), kSvnSuccess);
  EXPECT_NE(e.logs("b1", 1).find("bad branch name '-x'"), std::string::npos) << e.logs("b1", 1);
  EXPECT_NE(e.force("b1", 2, "trunk/../../elsewhere"), kSvnSuccess);
  EXPECT_NE(e.logs("b1", 2).find("'..' would leave the repository URL"), std::string::npos)
      << e.logs("b1", 2);
  EXPECT_NE(e.force("b1", 3, "trunk", "--config-option=x"), kSvnSuccess);
  EXPECT_NE(e.logs("b1", 3).find("would be read as an option"), std::string::npos) << e.logs("b1", 3);
  EXPECT_FALSE(fileExists(e.workdir("b1") + "/a.txt"));
}

}  // namespace
}  // namespace bb::test

namespace bb::test {
namespace {

std::vector<std::vector<std::string>> svnChangeRows(const MasterProcess& m) {
  return sqlite(m.dbPath(),
                "SELECT branch, revision, author, comments, source, "
                "(SELECT group_concat(path, ',') FROM change_files f WHERE f.change_id = c.id) "
                "FROM changes c ORDER BY id");
}

TEST(SvnPoller, TwoCommitsOnTwoBranchesBecomeTwoChangesAndARestartRepeatsNone) {
  VcsEnv e;
  SvnRepo repo(e.tmp.sub("svn"));
  repo.create();
  repo.commit("trunk/a.txt", "one\n", "first");
  repo.branchFromTrunk("feature");
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n", {"b1"},
              "change_sources:\n"
              "  - {name: svnsrc, type: svn_poller, repo: \"" + repo.url() + "\", interval: 1}\n"));
  ASSERT_TRUE(e.master.waitForLog("svn_poller svnsrc: watching")) << e.master.log();

  const std::string r4 = repo.commit("trunk/src/a.c", "int a;\n", "fix on trunk", "bob");
  const std::string r5 = repo.commit("branches/feature/b.txt", "b\n", "work on feature");
  ASSERT_TRUE(waitFor([&] { return svnChangeRows(e.master).size() >= 2; }, 30s)) << e.master.log();
  auto rows = svnChangeRows(e.master);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"trunk", r4, "bob", "fix on trunk", "svn_poller:svnsrc",
                                               "src/a.c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"branches/feature", r5, "alice", "work on feature",
                                               "svn_poller:svnsrc", "b.txt"}));

  ASSERT_EQ(e.master.stop(), 0) << e.master.log();
  e.master.start();
  const std::string r6 = repo.commit("trunk/a.txt", "two\n", "after the restart");
  ASSERT_TRUE(waitFor([&] { return svnChangeRows(e.master).size() >= 3; }, 30s)) << e.master.log();
  ASSERT_TRUE(e.waitPolls("svnsrc", 1));
  rows = svnChangeRows(e.master);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2][1], r6);
}

TEST(SvnPoller, CustomSplitAndOneRevisionOnTwoBranches) {
  VcsEnv e;
  SvnRepo repo(e.tmp.sub("svn"));
  repo.create();
  repo.commit("app/trunk/a.txt", "one\n", "first");
  repo.commit("lib/branches/fix/l.txt", "one\n", "first");
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n", {"b1"},
              "change_sources:\n"
              "  - {name: multi, type: svn_poller, repo: \"" + repo.url() +
                  "\", split: [\"*/trunk\", \"*/branches/*\"], interval: 1}\n"));
  ASSERT_TRUE(e.master.waitForLog("svn_poller multi: watching")) << e.master.log();
  // One commit touching two projects' branches, and a path no pattern takes.
  repo.svn({"update", "-q"});
  writeFile(repo.path() + "/wc/app/trunk/a.txt", "two\n");
  writeFile(repo.path() + "/wc/lib/branches/fix/l.txt", "two\n");
  writeFile(repo.path() + "/wc/README", "top\n");
  repo.svn({"add", "-q", "README"});
  repo.svn({"commit", "-q", "-m", "both"});
  ASSERT_TRUE(waitFor([&] { return svnChangeRows(e.master).size() >= 2; }, 30s)) << e.master.log();
  ASSERT_TRUE(e.waitPolls("multi", 1));
  auto rows = svnChangeRows(e.master);
  ASSERT_EQ(rows.size(), 2u);
  std::set<std::pair<std::string, std::string>> got{{rows[0][0], rows[0][5]}, {rows[1][0], rows[1][5]}};
  EXPECT_EQ(got, (std::set<std::pair<std::string, std::string>>{{"app/trunk", "a.txt"},
                                                                {"lib/branches/fix", "l.txt"}}));
  EXPECT_EQ(rows[0][1], rows[1][1]) << "both come from one revision";
}

TEST(SvnPoller, UnreachableRepositoryIsReportedAndRetriedWithBackOff) {
  VcsEnv e;
  SvnRepo repo(e.tmp.sub("svn"));  // not created yet
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n", {"b1"},
              "change_sources:\n"
              "  - {name: gone, type: svn_poller, repo: \"" + repo.url() + "\", interval: 1}\n"));
  ASSERT_TRUE(e.master.waitForLog("svn_poller gone: poll failed (2 in a row)")) << e.master.log();
  EXPECT_NE(e.master.log().find("next try in 2 s"), std::string::npos) << e.master.log();
  Json s = e.changeSource("gone");
  ASSERT_FALSE(s.is_null());
  EXPECT_GE(s["failures"].get<int>(), 2);
  EXPECT_NE(s["last_error"].get<std::string>().find("svn info of " + repo.url()), std::string::npos)
      << s;
  repo.create();
  ASSERT_TRUE(e.master.waitForLog("polling works again", 30s)) << e.master.log();
  ASSERT_TRUE(e.master.waitForLog("svn_poller gone: watching")) << e.master.log();
}

}  // namespace
}  // namespace bb::test
