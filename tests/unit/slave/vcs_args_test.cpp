// Argument safety of the source commands: values a VCS client could read
// as options are refused before any process starts.
#include <gtest/gtest.h>

#include "common/message.hpp"
#include "slave/vcs/hg.hpp"
#include "common/vcs_args.hpp"
#include "slave/vcs/source_command.hpp"
#include "slave/vcs/svn.hpp"

namespace bb::vcs {
namespace {

std::string refusal(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ProtocolError& e) {
    return e.what();
  }
  return "";
}

TEST(SafeArgs, OptionLikeValuesAreRefused) {
  EXPECT_NE(refusal([] { checkArgument("branch name", "-x"); }).find("bad branch name '-x'"),
            std::string::npos);
  EXPECT_NE(refusal([] { checkArgument("revision", "--config=hooks.x=y"); }), "");
  EXPECT_NE(refusal([] { checkArgument("branch name", "main\n--x"); }).find("control character"),
            std::string::npos);
  EXPECT_EQ(refusal([] { checkArgument("branch name", "feature/-x"); }), "");
  EXPECT_EQ(refusal([] { checkArgument("branch name", ""); }), "");
}

TEST(SafeArgs, HostileUrlsAreRefused) {
  EXPECT_NE(refusal([] { checkRepoUrl("repository URL", "--config=ui.ssh=evil"); }), "");
  EXPECT_NE(refusal([] { checkRepoUrl("repository URL", "ssh://-oProxyCommand=touch%20x/repo"); })
                .find("host starts with '-'"),
            std::string::npos);
  EXPECT_NE(refusal([] { checkRepoUrl("repository URL", "svn+ssh://user@-oProxyCommand=x/r"); }), "");
  EXPECT_NE(refusal([] { checkRepoUrl("repository URL", "-oProxyCommand=x:repo"); }), "");
  EXPECT_NE(refusal([] { checkRepoUrl("repository URL", "ext::sh -c touch% /tmp/x"); }), "");
  EXPECT_EQ(refusal([] { checkRepoUrl("repository URL", "ssh://hg@example.org/repo"); }), "");
  EXPECT_EQ(refusal([] { checkRepoUrl("repository URL", "git@example.org:app.git"); }), "");
  EXPECT_EQ(refusal([] { checkRepoUrl("repository URL", "file:///srv/svn/app"); }), "");
  EXPECT_EQ(refusal([] { checkRepoUrl("repository URL", "/srv/hg/app"); }), "");
}

TEST(SafeArgs, SvnBranchesStayUnderTheBaseUrl) {
  EXPECT_NE(refusal([] { checkBranchPath("branch name", "trunk/../../x"); }), "");
  EXPECT_NE(refusal([] { checkBranchPath("branch name", "/etc"); }), "");
  EXPECT_EQ(refusal([] { checkBranchPath("branch name", "branches/1.x..2"); }), "");
  EXPECT_EQ(SvnCommand::checkoutUrl("file:///r/", "branches/b"), "file:///r/branches/b");
  EXPECT_EQ(SvnCommand::checkoutUrl("file:///r", ""), "file:///r");
}

TEST(SafeArgs, SourceArgsAreCheckedOnArrival) {
  EXPECT_NE(refusal([] { readSourceArgs(Json{{"repo", "r"}, {"branch", "-x"}}); }), "");
  EXPECT_NE(refusal([] { readSourceArgs(Json{{"repo", "-r"}}); }), "");
  EXPECT_NE(refusal([] { readSourceArgs(Json{{"repo", "r"}, {"method", "wipe"}}); }), "");
  auto a = readSourceArgs(Json{{"repo", "r"}, {"mode", "full"}, {"method", "copy"}});
  EXPECT_TRUE(a.full);
  EXPECT_EQ(a.method, "copy");
}

TEST(SafeArgs, HgBranchRevsetQuotesTheName) {
  EXPECT_EQ(HgCommand::branchHeadRevset("default"), "max(branch(\"literal:default\"))");
  EXPECT_EQ(HgCommand::branchHeadRevset("a\") or all() or (\""),
            "max(branch(\"literal:a\\\") or all() or (\\\"\"))");
}

}  // namespace
}  // namespace bb::vcs
