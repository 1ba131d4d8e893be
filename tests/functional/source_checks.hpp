#pragma once
// Checks shared by the source step tests of the classic systems (darcs,
// brz, cvs, tla): the `mode: full` methods that clean in place, and a
// hostile branch or revision refused before anything runs.
#include <gtest/gtest.h>

#include "tests/functional/vcs_support.hpp"

namespace bb::test {

// Builders `fresh` and `clean` (mode full, method fresh / clean) of the
// same repository: a second build updates in place, removes an untracked
// file and reverts a local edit of `tracked` (its content `content`); the
// ignored file `ignored` goes with fresh and stays with clean.
inline void checkFullFreshAndClean(VcsEnv& e, const std::string& vcs, const std::string& tracked,
                                   const std::string& content, const std::string& ignored,
                                   const std::string& stamp = ".buildbot-branch") {
  for (const std::string b : {"fresh", "clean"}) {
    ASSERT_EQ(e.force(b, 1, ""), "0") << e.logs(b, 1);
    const std::string wd = e.workdir(b);
    ASSERT_EQ(readFile(wd + "/" + tracked), content);
    writeFile(wd + "/marker.untracked", "x\n");
    writeFile(wd + "/" + ignored, "ignored\n");
    writeFile(wd + "/" + tracked, "local edit\n");
    ASSERT_EQ(e.force(b, 2, ""), "0") << e.logs(b, 2);
    const std::string log = e.logs(b, 2);
    EXPECT_NE(log.find("updating the " + vcs + " checkout"), std::string::npos) << log;
    EXPECT_FALSE(fileExists(wd + "/marker.untracked")) << b << "\n" << log;
    EXPECT_EQ(readFile(wd + "/" + tracked), content) << b << ": local edits are reverted\n" << log;
    EXPECT_EQ(fileExists(wd + "/" + ignored), b == "clean")
        << b << ": method fresh removes ignored files, clean keeps them\n" << log;
    EXPECT_TRUE(fileExists(wd + "/" + stamp)) << b;
  }
}

// A build of `builder` number `number` on a hostile branch (or revision)
// fails with the reason, and nothing is checked out.
inline void checkRefused(VcsEnv& e, const std::string& builder, int number, const std::string& branch,
                         const std::string& revision, const std::string& reason,
                         const std::string& stamp = ".buildbot-branch") {
  const std::string wd = e.workdir(builder);
  const std::string before = readFile(wd + "/" + stamp);
  ASSERT_FALSE(before.empty()) << "the test needs a checkout first";
  EXPECT_EQ(e.force(builder, number, branch, revision) == "0", false) << e.logs(builder, number);
  const std::string log = e.logs(builder, number);
  EXPECT_NE(log.find(reason), std::string::npos) << log;
  EXPECT_EQ(readFile(wd + "/" + stamp), before) << "the tree was not touched";
}

}  // namespace bb::test
