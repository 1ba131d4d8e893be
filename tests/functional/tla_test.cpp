// GNU Arch end to end with real processes and a real archive (versions
// app--main--1.0 and its tag app--feature--1.0): the `tla` step registers
// the archive, checks out, updates in place, checks out fresh for another
// version (the stamp decides) and for a given patch level, cleans with
// mode full; hostile names (tla takes no `--`) are refused. The slave has
// a HOME of its own, so the archive's registration is the step's work.
#include <gtest/gtest.h>

#include "tests/functional/classic_vcs.hpp"
#include "tests/functional/source_checks.hpp"

namespace bb::test {
namespace {

// tla's lint refuses a file named .buildbot-branch: its stamp is precious.
constexpr const char* kStamp = "+buildbot-branch";

TEST(TlaStep, ChecksOutUpdatesSwitchesBranchAndCleans) {
  VcsEnv e;
  TlaRepo repo(e.tmp.sub("tla"), e.tmp.sub("home"));
  repo.create();
  repo.branch("feature");
  const std::string featureLevel = repo.commit("feature", "feature.txt", "feature\n", "on feature");
  const std::string slaveHome = e.tmp.sub("slavehome");
  writeFile(slaveHome + "/.keep", "");
  const std::string archive = TlaRepo::kArchive;
  const std::string src = "{repo: " + q(repo.location()) + ", archive: " + q(archive) +
                          ", default_branch: app--main--1.0";
  e.up(e.yaml("  - {name: b1, slaves: [s1], steps: [{tla: " + src + "}}]}\n"
              "  - {name: fresh, slaves: [s1], steps: [{tla: " + src + ", mode: full, method: fresh}}]}\n"
              "  - {name: clean, slaves: [s1], steps: [{tla: " + src + ", mode: full, method: clean}}]}\n",
              {"b1", "fresh", "clean"}),
       {{"HOME", slaveHome}});

  ASSERT_EQ(e.force("b1", 1, ""), "0") << e.logs("b1", 1);
  const std::string wd = e.workdir("b1");
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + "/feature.txt"));
  EXPECT_NE(e.logs("b1", 1).find("got_revision: base-0"), std::string::npos) << e.logs("b1", 1);
  EXPECT_NE(e.properties("b1", 1).find("base-0"), std::string::npos) << e.properties("b1", 1);
  EXPECT_EQ(readFile(wd + "/+buildbot-branch"), archive + "/app--main--1.0\n" + repo.location() + "\n");

  writeFile(wd + "/+marker.untracked", "still here\n");
  const std::string second = repo.commit("main", "a.txt", "two\n", "second");
  EXPECT_EQ(second, "patch-1");
  ASSERT_EQ(e.force("b1", 2, ""), "0") << e.logs("b1", 2);
  const std::string log2 = e.logs("b1", 2);
  EXPECT_NE(log2.find("updating the tla checkout"), std::string::npos) << log2;
  EXPECT_NE(log2.find("got_revision: patch-1"), std::string::npos) << log2;
  EXPECT_EQ(readFile(wd + "/a.txt"), "two\n");
  EXPECT_TRUE(fileExists(wd + "/+marker.untracked")) << "an update must not get again";

  ASSERT_EQ(e.force("b1", 3, "app--feature--1.0"), "0") << e.logs("b1", 3);
  const std::string log3 = e.logs("b1", 3);
  EXPECT_NE(log3.find("branch stamp says '" + archive + "/app--main--1.0 " + repo.location() +
                      "', this build wants '" + archive + "/app--feature--1.0 " + repo.location() +
                      "': checking out fresh"),
            std::string::npos)
      << log3;
  EXPECT_FALSE(fileExists(wd + "/+marker.untracked"));
  EXPECT_EQ(readFile(wd + "/feature.txt"), "feature\n");
  EXPECT_NE(log3.find("got_revision: " + featureLevel), std::string::npos) << log3;

  // The same version at its base-0 (the tag): tla cannot go back in place.
  ASSERT_EQ(e.force("b1", 4, "app--feature--1.0", "base-0"), "0") << e.logs("b1", 4);
  EXPECT_NE(e.logs("b1", 4).find("cannot update in place to a given revision"), std::string::npos)
      << e.logs("b1", 4);
  EXPECT_EQ(readFile(wd + "/a.txt"), "one\n");
  EXPECT_FALSE(fileExists(wd + "/feature.txt"));
  EXPECT_NE(e.logs("b1", 4).find("got_revision: base-0"), std::string::npos);

  checkRefused(e, "b1", 5, "-Hx", "", "starts with '-' and would be read as an option", kStamp);
  checkRefused(e, "b1", 6, "app--main--1.0/../x", "", "an Arch branch is a version", kStamp);
  checkRefused(e, "b1", 7, "app--main--1.0", "patch-1/../x", "an Arch revision is a patch level", kStamp);

  checkFullFreshAndClean(e, "tla", "a.txt", "two\n", "+build.keep", kStamp);
}

}  // namespace
}  // namespace bb::test
