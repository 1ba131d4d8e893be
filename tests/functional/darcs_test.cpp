// Darcs end to end with real processes and real repositories (a branch is
// a repository under the base URL): the `darcs` step checks out, updates
// the same branch in place, checks out fresh for another branch (the
// stamp decides) and for a given revision, cleans with mode full; hostile
// branches and revisions are refused.
#include <gtest/gtest.h>

#include "tests/functional/classic_vcs.hpp"
#include "tests/functional/source_checks.hpp"

namespace bb::test {
namespace {

TEST(DarcsStep, ChecksOutUpdatesSwitchesBranchAndCleans) {
  VcsEnv e;
  const std::string home = e.tmp.sub("home");
  DarcsRepo repo(e.tmp.sub("darcs"), home);
  repo.create("trunk");
  const std::string first = repo.commit("trunk", "a.txt", "one\n", "first");
  repo.fork("trunk", "feature");
  const std::string feature = repo.commit("feature", "feature.txt", "feature\n", "on feature");
  const std::string src = "{repo: " + q(repo.base()) + ", default_branch: trunk";
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{darcs: " + src + "}}]}\n"
              "  - {name: fresh, slaves: [s1], steps: [{darcs: " + src + ", mode: full, method: fresh}}]}\n"
              "  - {name: clean, slaves: [s1], steps: [{darcs: " + src + ", mode: full, method: clean}}]}\n",
              {"b1", "fresh", "clean"}),
       {{"HOME", home}});

  // 1: the default branch's newest patch.
  ASSERT_EQ(e.force("b1", 1, ""), "0") << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + "/feature.txt"));
  EXPECT_NE(e.logs("b1", 1).find("got_revision: " + first), std::string::npos) << e.logs("b1", 1);
  EXPECT_NE(e.properties("b1", 1).find(first), std::string::npos) << e.properties("b1", 1);
  EXPECT_EQ(readFile(wd + "/.buildbot-branch"), "trunk\n" + repo.base() + "\n");

  // 2: the same branch again updates in place.
  writeFile(wd + "/marker.untracked", "still here\n");
  const std::string second = repo.commit("trunk", "a.txt", "two\n", "second");
  ASSERT_EQ(e.force("b1", 2, "trunk"), "0") << e.logs("b1", 2);
  const std::string log2 = e.logs("b1", 2);
  EXPECT_NE(log2.find("updating the darcs checkout"), std::string::npos) << log2;
  EXPECT_NE(log2.find("got_revision: " + second), std::string::npos) << log2;
  EXPECT_EQ(readFile(wd + "/a.txt"), "two\n");
  EXPECT_TRUE(fileExists(wd + "/marker.untracked")) << "an update must not clone again";

  // 3: another branch: the stamp names trunk, so a fresh checkout.
  ASSERT_EQ(e.force("b1", 3, "feature"), "0") << e.logs("b1", 3);
  const std::string log3 = e.logs("b1", 3);
  EXPECT_NE(log3.find("branch stamp says 'trunk " + repo.base() + "', this build wants 'feature " +
                      repo.base() + "': checking out fresh"),
            std::string::npos)
      << log3;
  EXPECT_FALSE(fileExists(wd + "/marker.untracked"));
  EXPECT_EQ(readFile(wd + "/feature.txt"), "feature\n");
  EXPECT_NE(log3.find("got_revision: " + feature), std::string::npos) << log3;

  // 4: an older patch of the same branch by hash: darcs cannot go back in
  // place, so a fresh clone up to that patch.
  ASSERT_EQ(e.force("b1", 4, "feature", first), "0") << e.logs("b1", 4);
  EXPECT_NE(e.logs("b1", 4).find("cannot update in place to a given revision"), std::string::npos)
      << e.logs("b1", 4);
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + "/feature.txt"));

  // 5, 6: hostile values are refused before darcs runs.
  checkRefused(e, "b1", 5, "--repodir=/tmp", "", "starts with '-' and would be read as an option");
  checkRefused(e, "b1", 6, "trunk", "--to-match=x", "starts with '-' and would be read as an option");
  checkRefused(e, "b1", 7, "../outside", "", "'..' would leave the repository URL");

  checkFullFreshAndClean(e, "darcs", "a.txt", "two\n", "build.o");
}

}  // namespace
}  // namespace bb::test
