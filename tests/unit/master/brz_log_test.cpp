// The Breezy poller's reading of `brz log --long --verbose --show-ids
// --forward`: one Commit per revision, author before committer, the
// message unindented, files without their ids, directories left out.
#include <gtest/gtest.h>

#include "master/changes/brz_poller.hpp"

namespace bb {
namespace {

constexpr const char* kLog = R"(------------------------------------------------------------
revno: 2
revision-id: a@x-20261202012722-7ig1b52rcjbbzixa
parent: a@x-20261202012721-tspni4s97w2s2ur6
committer: Alice <a@x>
branch nick: trunk
timestamp: Wed 2026-12-02 01:27:22 +0000
message:
  second
modified:
  a.txt                          a.txt-20261202012720-lac0beigf4p3nud2-1
------------------------------------------------------------
revno: 3
revision-id: a@x-20261202015501-6p4h531w1kx712u1
parent: a@x-20261202012722-7ig1b52rcjbbzixa
author: Bob <bob@x>
committer: Alice <a@x>
branch nick: trunk
timestamp: Wed 2026-12-02 01:55:01 +0100
message:
  third
  line two
added:
  d/                             d-20261202015459-68dwpwofiuzgxs3f-1
  d/n.txt                        n.txt-20261202015459-68dwpwofiuzgxs3f-2
renamed:
  old.txt => new.txt             old.txt-2026-1
)";

TEST(BrzLog, RevisionsAuthorsMessagesAndFiles) {
  auto commits = BrzPoller::parseLog(kLog);
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0].revision, "a@x-20261202012722-7ig1b52rcjbbzixa");
  EXPECT_EQ(commits[0].author, "Alice <a@x>");
  EXPECT_EQ(commits[0].comments, "second");
  EXPECT_EQ(commits[0].files, (std::vector<std::string>{"a.txt"}));
  EXPECT_EQ(commits[0].when, 1796174842);
  EXPECT_EQ(commits[1].author, "Bob <bob@x>");
  EXPECT_EQ(commits[1].comments, "third\nline two");
  EXPECT_EQ(commits[1].files, (std::vector<std::string>{"d/n.txt", "new.txt"}));
  EXPECT_EQ(commits[1].when, 1796176501 - 3600);
  EXPECT_TRUE(BrzPoller::parseLog("").empty());
}

}  // namespace
}  // namespace bb
