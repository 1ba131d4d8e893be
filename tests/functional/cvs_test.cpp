// CVS end to end with real processes and a real repository (module app;
// a branch is a branch tag, a revision a date): the `cvs` step checks
// out, updates in place, checks out fresh for another branch tag (the
// stamp decides), goes back to a date, cleans with mode full; hostile tags,
// dates and CVSROOTs are refused.
#include <gtest/gtest.h>

#include <thread>

#include "tests/functional/classic_vcs.hpp"
#include "tests/functional/source_checks.hpp"

namespace bb::test {
namespace {

TEST(CvsStep, ChecksOutUpdatesSwitchesBranchAndCleans) {
  VcsEnv e;
  const std::string home = e.tmp.sub("home");
  CvsRepo repo(e.tmp.sub("cvs"), home);
  repo.create();
  repo.branch("FEATURE");
  repo.commit("FEATURE", "feature.txt", "feature\n", "on feature");
  const std::string src = "{repo: " + q(repo.root()) + ", module: app";
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{cvs: " + src + "}}]}\n"
              "  - {name: fresh, slaves: [s1], steps: [{cvs: " + src + ", mode: full, method: fresh}}]}\n"
              "  - {name: clean, slaves: [s1], steps: [{cvs: " + src + ", mode: full, method: clean}}]}\n",
              {"b1", "fresh", "clean"}),
       {{"HOME", home}});

  ASSERT_EQ(e.force("b1", 1, ""), "0") << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + "/feature.txt"));
  const std::string log1 = e.logs("b1", 1);
  const auto at = log1.find("got_revision: ");
  ASSERT_NE(at, std::string::npos) << log1;
  const std::string date1 = log1.substr(at + 14, log1.find('\n', at) - at - 14);
  EXPECT_EQ(date1.size(), 20u) << date1;  // 2026-12-02T01:30:00Z
  EXPECT_NE(e.properties("b1", 1).find(date1), std::string::npos) << e.properties("b1", 1);
  EXPECT_EQ(readFile(wd + "/.buildbot-branch"), "HEAD\n" + repo.root() + " app\n");

  // CVS dates have one-second resolution: the next commit is a second later.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  writeFile(wd + "/marker.untracked", "still here\n");
  repo.commit("HEAD", "a.txt", "two\n", "second");
  ASSERT_EQ(e.force("b1", 2, ""), "0") << e.logs("b1", 2);
  const std::string log2 = e.logs("b1", 2);
  EXPECT_NE(log2.find("updating the cvs checkout"), std::string::npos) << log2;
  EXPECT_EQ(readFile(wd + "/a.txt"), "two\n");
  EXPECT_TRUE(fileExists(wd + "/marker.untracked")) << "an update must not check out again";

  // The date of build 1 as the revision: back to "one", in place.
  ASSERT_EQ(e.force("b1", 3, "", date1), "0") << e.logs("b1", 3);
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n") << e.logs("b1", 3);
  EXPECT_NE(e.logs("b1", 3).find("got_revision: " + date1), std::string::npos);

  ASSERT_EQ(e.force("b1", 4, "FEATURE"), "0") << e.logs("b1", 4);
  const std::string log4 = e.logs("b1", 4);
  EXPECT_NE(log4.find("branch stamp says 'HEAD " + repo.root() + " app', this build wants 'FEATURE " +
                      repo.root() + " app': checking out fresh"),
            std::string::npos)
      << log4;
  EXPECT_FALSE(fileExists(wd + "/marker.untracked"));
  EXPECT_EQ(readFile(wd + "/feature.txt"), "feature\n");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n") << "the branch was made before the second commit";

  checkRefused(e, "b1", 5, "-lx", "", "starts with '-' and would be read as an option");
  checkRefused(e, "b1", 6, "FEATURE;x", "", "a CVS tag is a letter");
  checkRefused(e, "b1", 7, "FEATURE", "$(touch${IFS}/tmp/x)", "a CVS revision is a date");

  checkFullFreshAndClean(e, "cvs", "a.txt", "two\n", "build.o");
}

// The config check of the classic systems' own keys (all four steps).
TEST(CvsStep, ConfigErrorsOfTheClassicStepsAreClear) {
  VcsEnv e;
  e.master.create();
  e.master.writeConfig(e.yaml("  - name: b1\n    slaves: [s1]\n    steps:\n"
                              "      - {cvs: {repo: /srv/cvs}}\n"
                              "      - {tla: {repo: /srv/arch, archive: \"-x\"}}\n"
                              "      - {darcs: {repo: /srv/darcs, default_branch: \"-b\"}}\n"
                              "      - {brz: {repo: /srv/brz, module: app}}\n",
                              {"b1"}));
  auto r = e.master.admin({"checkconfig", e.master.dir()});
  EXPECT_NE(r.rc, 0);
  const std::string out = r.out + r.err;
  EXPECT_NE(out.find("missing required key 'module'"), std::string::npos) << out;
  EXPECT_NE(out.find("archive '-x' starts with '-'"), std::string::npos) << out;
  EXPECT_NE(out.find("default_branch '-b' starts with '-'"), std::string::npos) << out;
  EXPECT_NE(out.find("unknown key 'module'"), std::string::npos) << "brz has no module key: " << out;
}

}  // namespace
}  // namespace bb::test
