// Bazaar/Breezy end to end with real processes and a real shared
// repository (branches trunk and feature under its URL): the `brz` step
// checks out, updates in place (also back to an older revno), checks out
// fresh for another branch (the stamp decides), cleans with mode full;
// hostile branches and revisions are refused.
#include <map>

#include <gtest/gtest.h>

#include "tests/functional/classic_vcs.hpp"
#include "tests/functional/source_checks.hpp"

namespace bb::test {
namespace {

TEST(BrzStep, ChecksOutUpdatesSwitchesBranchAndCleans) {
  VcsEnv e;
  const std::string home = e.tmp.sub("home");
  BrzRepo repo(e.tmp.sub("brz"), home);
  repo.create("trunk");
  const std::string first = repo.commit("trunk", "a.txt", "one\n", "first");
  repo.fork("trunk", "feature");
  const std::string feature = repo.commit("feature", "feature.txt", "feature\n", "on feature");
  const std::string src = "{repo: " + q(repo.base()) + ", default_branch: trunk";
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{brz: " + src + "}}]}\n"
              "  - {name: fresh, slaves: [s1], steps: [{brz: " + src + ", mode: full, method: fresh}}]}\n"
              "  - {name: clean, slaves: [s1], steps: [{brz: " + src + ", mode: full, method: clean}}]}\n",
              {"b1", "fresh", "clean"}),
       {{"HOME", home}});

  ASSERT_EQ(e.force("b1", 1, ""), "0") << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + "/feature.txt"));
  EXPECT_NE(e.logs("b1", 1).find("got_revision: " + first), std::string::npos) << e.logs("b1", 1);
  EXPECT_NE(e.properties("b1", 1).find(first), std::string::npos) << e.properties("b1", 1);
  EXPECT_EQ(readFile(wd + "/.buildbot-branch"), "trunk\n" + repo.base() + "\n");

  writeFile(wd + "/marker.untracked", "still here\n");
  const std::string second = repo.commit("trunk", "a.txt", "two\n", "second");
  ASSERT_EQ(e.force("b1", 2, "trunk"), "0") << e.logs("b1", 2);
  const std::string log2 = e.logs("b1", 2);
  EXPECT_NE(log2.find("updating the brz checkout"), std::string::npos) << log2;
  EXPECT_NE(log2.find("got_revision: " + second), std::string::npos) << log2;
  EXPECT_EQ(readFile(wd + "/a.txt"), "two\n");
  EXPECT_TRUE(fileExists(wd + "/marker.untracked")) << "an update must not branch again";

  // An older revision in place, by revno and by the id got_revision gave.
  ASSERT_EQ(e.force("b1", 3, "trunk", "1"), "0") << e.logs("b1", 3);
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_TRUE(fileExists(wd + "/marker.untracked"));
  ASSERT_EQ(e.force("b1", 4, "trunk", second), "0") << e.logs("b1", 4);
  EXPECT_EQ(readFile(wd + "/a.txt"), "two\n");

  ASSERT_EQ(e.force("b1", 5, "feature"), "0") << e.logs("b1", 5);
  const std::string log5 = e.logs("b1", 5);
  EXPECT_NE(log5.find("branch stamp says 'trunk " + repo.base() + "', this build wants 'feature " +
                      repo.base() + "': checking out fresh"),
            std::string::npos)
      << log5;
  EXPECT_FALSE(fileExists(wd + "/marker.untracked"));
  EXPECT_EQ(readFile(wd + "/feature.txt"), "feature\n");
  EXPECT_NE(log5.find("got_revision: " + feature), std::string::npos) << log5;

  checkRefused(e, "b1", 6, "-Oprotocol=x", "", "starts with '-' and would be read as an option");
  checkRefused(e, "b1", 7, "feature", "branch:/etc", "a Breezy revision is a revno");
  checkRefused(e, "b1", 8, "../x", "", "'..' would leave the repository URL");

  checkFullFreshAndClean(e, "brz", "a.txt", "two\n", "build.o");
}

}  // namespace
}  // namespace bb::test

namespace bb::test {
namespace {

std::vector<std::vector<std::string>> changeRows(const MasterProcess& m) {
  return sqlite(m.dbPath(),
                "SELECT branch, revision, author, comments, source, "
                "(SELECT group_concat(path, ',') FROM change_files f WHERE f.change_id = c.id) "
                "FROM changes c ORDER BY id");
}

TEST(BrzPoller, TwoCommitsOnTwoBranchesBecomeTwoChangesAndARestartRepeatsNone) {
  VcsEnv e;
  const std::string home = e.tmp.sub("home");
  BrzRepo repo(e.tmp.sub("brz"), home);
  repo.create("trunk");
  repo.commit("trunk", "a.txt", "one\n", "first");
  repo.fork("trunk", "feature");
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n", {"b1"},
              "change_sources:\n"
              "  - {name: brzsrc, type: brz_poller, repo: \"" + repo.base() +
                  "\", branches: [trunk, feature], interval: 1}\n"));
  ASSERT_TRUE(e.master.waitForLog("brz_poller brzsrc: watching trunk")) << e.master.log();
  ASSERT_TRUE(e.master.waitForLog("brz_poller brzsrc: watching feature")) << e.master.log();

  const std::string onTrunk = repo.commit("trunk", "a.txt", "two\n", "fix on trunk\nin two lines",
                                          "Bob <bob@example.org>");
  const std::string onFeature = repo.commit("feature", "src/g.txt", "g\n", "work on feature");
  ASSERT_TRUE(waitFor([&] { return changeRows(e.master).size() >= 2; }, 30s)) << e.master.log();
  ASSERT_TRUE(e.waitPolls("brzsrc", 1));
  auto rows = changeRows(e.master);
  ASSERT_EQ(rows.size(), 2u);
  std::map<std::string, std::vector<std::string>> byBranch;
  for (const auto& r : rows) byBranch[r[0]] = r;
  ASSERT_TRUE(byBranch.count("trunk") && byBranch.count("feature"));
  EXPECT_EQ(byBranch["trunk"][1], onTrunk);
  EXPECT_EQ(byBranch["trunk"][2], "Bob <bob@example.org>");
  EXPECT_EQ(byBranch["trunk"][3], "fix on trunk\nin two lines");
  EXPECT_EQ(byBranch["trunk"][4], "brz_poller:brzsrc");
  EXPECT_EQ(byBranch["trunk"][5], "a.txt");
  EXPECT_EQ(byBranch["feature"][1], onFeature);
  EXPECT_EQ(byBranch["feature"][5], "src/g.txt");

  ASSERT_EQ(e.master.stop(), 0) << e.master.log();
  e.master.start();
  const std::string third = repo.commit("trunk", "a.txt", "three\n", "after the restart");
  ASSERT_TRUE(waitFor([&] { return changeRows(e.master).size() >= 3; }, 30s)) << e.master.log();
  ASSERT_TRUE(e.waitPolls("brzsrc", 1));
  rows = changeRows(e.master);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2][1], third);
  EXPECT_EQ(rows[2][0], "trunk");
}

TEST(BrzPoller, UnreachableBranchIsReportedAndRetriedWithBackOff) {
  VcsEnv e;
  const std::string home = e.tmp.sub("home");
  BrzRepo repo(e.tmp.sub("brz"), home);  // not created yet
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n", {"b1"},
              "change_sources:\n"
              "  - {name: gone, type: brz_poller, repo: \"" + repo.base() +
                  "\", branches: [trunk], interval: 1}\n"));
  ASSERT_TRUE(e.master.waitForLog("brz_poller gone: poll failed (2 in a row)")) << e.master.log();
  EXPECT_NE(e.master.log().find("next try in 2 s"), std::string::npos) << e.master.log();
  Json s = e.changeSource("gone");
  ASSERT_FALSE(s.is_null());
  EXPECT_GE(s["failures"].get<int>(), 2);
  EXPECT_NE(s["last_error"].get<std::string>().find("brz revision-info of " + repo.base() + "/trunk"),
            std::string::npos)
      << s;
  repo.create("trunk");
  repo.commit("trunk", "a.txt", "one\n", "first");
  ASSERT_TRUE(e.master.waitForLog("polling works again", 30s)) << e.master.log();
  ASSERT_TRUE(e.master.waitForLog("brz_poller gone: watching trunk")) << e.master.log();
}

TEST(BrzPoller, HostileBranchesAreRefusedByTheConfigCheck) {
  VcsEnv e;
  e.master.create();
  e.master.writeConfig(e.yaml("  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n", {"b1"},
                              "change_sources:\n"
                              "  - {name: bad, type: brz_poller, repo: \"ssh://-oProxyCommand=x/r\", "
                              "branches: [trunk]}\n"
                              "  - {name: bad2, type: brz_poller, repo: /srv/brz, branches: [\"-x\", \"../up\"]}\n"));
  auto r = e.master.admin({"checkconfig", e.master.dir()});
  EXPECT_NE(r.rc, 0);
  const std::string out = r.out + r.err;
  EXPECT_NE(out.find("its host starts with '-'"), std::string::npos) << out;
  EXPECT_NE(out.find("bad branch name '-x'"), std::string::npos) << out;
  EXPECT_NE(out.find("'..' would leave the repository URL"), std::string::npos) << out;
}

}  // namespace
}  // namespace bb::test
