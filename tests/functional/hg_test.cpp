// Mercurial end to end with real processes and a real repository: the
// `hg` step checks out, updates the same branch in place, checks out fresh
// for another branch (the branch stamp decides), cleans with mode full;
// hostile branch names are refused.
#include <gtest/gtest.h>

#include "tests/functional/vcs_support.hpp"

namespace bb::test {
namespace {

constexpr const char* kHgSuccess = "0";

TEST(HgStep, ChecksOutUpdatesAndSwitchesBranchFresh) {
  VcsEnv e;
  HgRepo repo(e.tmp.sub("hgrepo"));
  repo.init();
  const std::string first = repo.commit("a.txt", "one\n", "first");
  repo.branch("feature");
  const std::string feature = repo.commit("feature.txt", "feature\n", "on feature");
  repo.update("default");
  e.up(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
              "      - {hg: {repo: " + q(repo.path()) + "}}\n"
              "      - {shell: {command: \"cat a.txt\"}}\n",
              {"b1"}));

  // 1: a first build checks out the default branch's head.
  ASSERT_EQ(e.force("b1", 1, ""), kHgSuccess) << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + "/feature.txt")) << "the default branch has no feature.txt";
  EXPECT_NE(e.logs("b1", 1).find("got_revision: " + first), std::string::npos) << e.logs("b1", 1);
  EXPECT_NE(e.properties("b1", 1).find(first), std::string::npos) << e.properties("b1", 1);
  EXPECT_EQ(readFile(wd + "/.buildbot-branch"), "default\n" + repo.path() + "\n");

  // 2: the same branch again updates in place: an untracked file survives.
  writeFile(wd + "/marker.untracked", "still here\n");
  const std::string second = repo.commit("a.txt", "two\n", "second");
  ASSERT_EQ(e.force("b1", 2, "default"), kHgSuccess) << e.logs("b1", 2);
  EXPECT_EQ(readFile(wd + "/a.txt"), "two\n");
  EXPECT_TRUE(fileExists(wd + "/marker.untracked")) << "an update must not re-clone";
  std::string log2 = e.logs("b1", 2);
  EXPECT_NE(log2.find("updating the hg checkout"), std::string::npos) << log2;
  EXPECT_NE(log2.find("got_revision: " + second), std::string::npos) << log2;
  EXPECT_EQ(log2.find("hg clone"), std::string::npos) << log2;
  // The stamp is kept out of `hg status`; the marker is not.
  auto st = run({"hg", "status", "--unknown"}, wd, {{"HGPLAIN", "1"}});
  EXPECT_EQ(st.out, "? marker.untracked\n") << st.describe();

  // 3: another branch: the stamp names default, so the step checks out fresh.
  ASSERT_EQ(e.force("b1", 3, "feature"), kHgSuccess) << e.logs("b1", 3);
  std::string log3 = e.logs("b1", 3);
  EXPECT_NE(log3.find("branch stamp says 'default " + repo.path() +
                      "', this build wants 'feature " + repo.path() + "': checking out fresh"),
            std::string::npos)
      << log3;
  EXPECT_FALSE(fileExists(wd + "/marker.untracked")) << "a fresh checkout starts empty";
  EXPECT_EQ(readFile(wd + "/feature.txt"), "feature\n");
  EXPECT_NE(log3.find("got_revision: " + feature), std::string::npos) << log3;

  // 4: an older revision of default by id.
  ASSERT_EQ(e.force("b1", 4, "default", first), kHgSuccess) << e.logs("b1", 4);
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
}

TEST(HgStep, FullFreshRemovesUntrackedFilesButUpdatesInPlace) {
  VcsEnv e;
  HgRepo repo(e.tmp.sub("hgrepo"));
  repo.init();
  repo.commit("a.txt", "one\n", "first");
  writeFile(repo.path() + "/.hgignore", "syntax: glob\n*.o\n");
  repo.hg({"add", ".hgignore"});
  repo.hg({"commit", "-u", "t", "-m", "ignore"});
  e.up(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
              "      - {hg: {repo: " + q(repo.path()) + ", mode: full, method: fresh}}\n",
              {"b1"}));
  ASSERT_EQ(e.force("b1", 1, ""), kHgSuccess) << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  writeFile(wd + "/marker.untracked", "x\n");
  writeFile(wd + "/build.o", "ignored\n");
  writeFile(wd + "/a.txt", "local edit\n");
  ASSERT_EQ(e.force("b1", 2, ""), kHgSuccess) << e.logs("b1", 2);
  std::string log2 = e.logs("b1", 2);
  EXPECT_NE(log2.find("updating the hg checkout"), std::string::npos) << log2;
  EXPECT_NE(log2.find("purge"), std::string::npos) << log2;
  EXPECT_FALSE(fileExists(wd + "/marker.untracked"));
  EXPECT_FALSE(fileExists(wd + "/build.o")) << "method fresh removes ignored files too";
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n") << "local edits are reverted";
  EXPECT_TRUE(fileExists(wd + "/.buildbot-branch"));
}

TEST(HgStep, HostileBranchIsRefusedAndNothingRuns) {
  VcsEnv e;
  HgRepo repo(e.tmp.sub("hgrepo"));
  repo.init();
  repo.commit("a.txt", "one\n", "first");
  e.up(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
              "      - {hg: {repo: " + q(repo.path()) + "}}\n",
              {"b1"}));
  const std::string result = e.force("b1", 1, "--config=hooks.pre-update=touch /tmp/pwned");
  EXPECT_NE(result, kHgSuccess);
  std::string log = e.logs("b1", 1);
  EXPECT_NE(log.find("starts with '-' and would be read as an option"), std::string::npos) << log;
  EXPECT_FALSE(fileExists(e.workdir("b1") + "/a.txt")) << "nothing was checked out";
}

TEST(HgStep, ConfigErrorsAreClear) {
  VcsEnv e;
  e.master.create();
  e.master.writeConfig(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
                              "      - {hg: {repo: \"--config=x\", method: copy}}\n"
                              "      - {hg: {mode: full, method: wipe}}\n",
                              {"b1"}));
  auto r = e.master.admin({"checkconfig", e.master.dir()});
  EXPECT_NE(r.rc, 0);
  const std::string out = r.out + r.err;
  EXPECT_NE(out.find("repo '--config=x' starts with '-'"), std::string::npos) << out;
  EXPECT_NE(out.find("method 'copy' applies to mode: full only"), std::string::npos) << out;
  EXPECT_NE(out.find("missing required key 'repo'"), std::string::npos) << out;
  EXPECT_NE(out.find("wipe"), std::string::npos) << out;
}

}  // namespace
}  // namespace bb::test

namespace bb::test {
namespace {

std::vector<std::vector<std::string>> hgChangeRows(const MasterProcess& m) {
  return sqlite(m.dbPath(),
                "SELECT branch, revision, author, comments, source, "
                "(SELECT group_concat(path, ',') FROM change_files f WHERE f.change_id = c.id) "
                "FROM changes c ORDER BY id");
}

TEST(HgPoller, TwoCommitsOnTwoBranchesBecomeTwoChangesAndARestartRepeatsNone) {
  VcsEnv e;
  HgRepo repo(e.tmp.sub("hgrepo"));
  repo.init();
  repo.commit("a.txt", "one\n", "first");
  repo.branch("feature");
  repo.commit("f.txt", "f\n", "feature starts");
  repo.update("default");
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n", {"b1"},
              "change_sources:\n"
              "  - {name: hgsrc, type: hg_poller, repo: \"" + repo.path() +
                  "\", branches: [default, feature], interval: 1}\n"));
  ASSERT_TRUE(e.master.waitForLog("hg_poller hgsrc: watching default")) << e.master.log();
  ASSERT_TRUE(e.master.waitForLog("hg_poller hgsrc: watching feature")) << e.master.log();

  const std::string onDefault = repo.commit("a.txt", "two\n", "fix on default", "Bob <bob@example.org>");
  repo.update("feature");
  const std::string onFeature = repo.commit("src/g.txt", "g\n", "work on feature");
  ASSERT_TRUE(waitFor([&] { return hgChangeRows(e.master).size() >= 2; }, 30s)) << e.master.log();
  auto rows = hgChangeRows(e.master);
  ASSERT_EQ(rows.size(), 2u);
  std::map<std::string, std::vector<std::string>> byBranch;
  for (const auto& r : rows) byBranch[r[0]] = r;
  ASSERT_TRUE(byBranch.count("default") && byBranch.count("feature"));
  EXPECT_EQ(byBranch["default"][1], onDefault);
  EXPECT_EQ(byBranch["default"][2], "Bob <bob@example.org>");
  EXPECT_EQ(byBranch["default"][3], "fix on default");
  EXPECT_EQ(byBranch["default"][4], "hg_poller:hgsrc");
  EXPECT_EQ(byBranch["default"][5], "a.txt");
  EXPECT_EQ(byBranch["feature"][1], onFeature);
  EXPECT_EQ(byBranch["feature"][5], "src/g.txt");

  // A restart repeats none: a third commit makes exactly one more change.
  ASSERT_EQ(e.master.stop(), 0) << e.master.log();
  e.master.start();
  repo.update("default");
  const std::string third = repo.commit("a.txt", "three\n", "after the restart");
  ASSERT_TRUE(waitFor([&] { return hgChangeRows(e.master).size() >= 3; }, 30s)) << e.master.log();
  ASSERT_TRUE(e.waitPolls("hgsrc", 1));  // one more poll: still nothing repeated
  rows = hgChangeRows(e.master);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2][1], third);
  EXPECT_EQ(rows[2][0], "default");
}

}  // namespace
}  // namespace bb::test
