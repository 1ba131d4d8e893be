// What the darcs, brz, cvs and tla source commands accept as a branch or
// revision, and how they read their clients' output: the checks that
// stand between a change's values and a client (tla takes no `--`).
#include <gtest/gtest.h>

#include "common/message.hpp"
#include "slave/vcs/brz.hpp"
#include "slave/vcs/cvs.hpp"
#include "slave/vcs/darcs.hpp"
#include "slave/vcs/tla.hpp"

namespace bb::vcs {
namespace {

std::string classicRefusal(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ProtocolError& e) {
    return e.what();
  }
  return "";
}

TEST(BrzRevision, RevnosRevidsAndTagsOnlyNeverAnotherBranch) {
  EXPECT_EQ(BrzCommand::revisionSpec(""), "");
  EXPECT_EQ(BrzCommand::revisionSpec("5"), "5");
  EXPECT_EQ(BrzCommand::revisionSpec("1.2.3"), "1.2.3");
  EXPECT_EQ(BrzCommand::revisionSpec("tag:v1"), "tag:v1");
  EXPECT_EQ(BrzCommand::revisionSpec("a@x-20261202012721-tspni4s97w2s2ur6"),
            "revid:a@x-20261202012721-tspni4s97w2s2ur6");
  EXPECT_NE(classicRefusal([] { BrzCommand::revisionSpec("branch:/etc"); }).find("a Breezy revision is"),
            std::string::npos);
  EXPECT_NE(classicRefusal([] { BrzCommand::revisionSpec("before:revid:x"); }), "");
  EXPECT_NE(classicRefusal([] { BrzCommand::revisionSpec("-r1"); }).find("starts with '-'"), std::string::npos);
  EXPECT_NE(classicRefusal([] { BrzCommand::revisionSpec("1..2"); }), "");
  EXPECT_NE(classicRefusal([] { BrzCommand::revisionSpec("revid:"); }), "");
}

TEST(CvsArgs, IsoDatesAreSpelledOutAndHostileRootsRefused) {
  EXPECT_EQ(CvsCommand::dateForCvs("2026-12-01T10:00:00Z"), "2026-12-01 10:00:00 +0000");
  EXPECT_EQ(CvsCommand::dateForCvs("@1796000000"), "@1796000000");
  EXPECT_EQ(classicRefusal([] { CvsCommand::checkCvsRoot(":pserver:anon@cvs.example.org:/cvsroot"); }), "");
  EXPECT_EQ(classicRefusal([] { CvsCommand::checkCvsRoot("/srv/cvs"); }), "");
  EXPECT_NE(classicRefusal([] { CvsCommand::checkCvsRoot(":ext:-oProxyCommand=touch$IFS/tmp/x:/cvs"); })
                .find("its host starts with '-'"),
            std::string::npos);
  EXPECT_NE(classicRefusal([] { CvsCommand::checkCvsRoot(":ext:user@-oProxyCommand=x:/cvs"); }), "");
}

TEST(TlaNames, OnlyArchSyntaxGetsThrough) {
  EXPECT_TRUE(TlaCommand::validArchive("alice@example.org--2026"));
  EXPECT_FALSE(TlaCommand::validArchive("-x--y"));
  EXPECT_FALSE(TlaCommand::validArchive("a@b--c/d"));
  EXPECT_FALSE(TlaCommand::validArchive("noversion"));
  EXPECT_TRUE(TlaCommand::validVersion("app--main--1.0"));
  EXPECT_TRUE(TlaCommand::validVersion("app--1.0.2"));
  EXPECT_FALSE(TlaCommand::validVersion("app--main"));
  EXPECT_FALSE(TlaCommand::validVersion("app--main--1.0 --dir"));
  EXPECT_FALSE(TlaCommand::validVersion("--help"));
  EXPECT_TRUE(TlaCommand::validLevel("patch-12"));
  EXPECT_TRUE(TlaCommand::validLevel("base-0"));
  EXPECT_FALSE(TlaCommand::validLevel("patch-"));
  EXPECT_FALSE(TlaCommand::validLevel("patch-1/../x"));
  EXPECT_EQ(TlaCommand::levelFromLogs("alice@example.org--2026/app--main--1.0--patch-3\n"
                                      "alice@example.org--2026/app--main--1.0--patch-2\n"),
            "patch-3");
  EXPECT_EQ(TlaCommand::levelFromLogs(""), "");
}

TEST(DarcsLog, TheNewestPatchHash) {
  EXPECT_EQ(DarcsCommand::hashFromLog("patch db2fae3a79b11c54a1840636ab9f9ec66a518342\n"
                                      "Author: Alice <a@x>\nDate:   Wed Dec  2 01:27:05 UTC 2026\n"
                                      "  * second\n"),
            "db2fae3a79b11c54a1840636ab9f9ec66a518342");
  EXPECT_EQ(DarcsCommand::hashFromLog("nothing\n"), "");
}

}  // namespace
}  // namespace bb::vcs
