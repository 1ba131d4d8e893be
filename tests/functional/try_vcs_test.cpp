// buildbot try in Mercurial and Subversion trees, with real repositories
// and processes: the client finds the system and makes the patch itself
// (hg: a local draft commit and an uncommitted change against the newest
// public ancestor; svn: an added file and an edit against BASE), the job
// goes through the job directory and over the client protocol, and the hg or svn step applies it with
// `patch -pN` after checking out the base revision. A patch that breaks
// the build makes --wait exit non-zero, and a tree a try build patched is
// checked out fresh by the next build.
#include <gtest/gtest.h>

#include "tests/functional/vcs_support.hpp"

namespace bb::test {
namespace {

struct TryVcs {
  VcsEnv env;
  std::string dev = env.tmp.sub("dev");
  std::string jobdir = env.tmp.sub("master/jobs");

  void up(const std::string& sourceStep) {
    env.up(env.yaml("  - name: app\n"
                    "    slaves: [s1]\n"
                    "    steps:\n"
                    "      - " + sourceStep + "\n"
                    "      - shell: {name: check, command: \"test -f feature.txt && grep -qx fixed main.txt\"}\n",
                    {"app"},
                    "  - {name: tryjd, type: try_jobdir, jobdir: jobs, builders: [app]}\n"
                    "  - {name: tryup, type: try_userpass, builders: [app]}\n"));
  }
  // Through the job directory, or (`overMaster`) over the client protocol.
  CmdResult tryCmd(std::vector<std::string> args, bool overMaster = false) {
    std::vector<std::string> argv = {BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(env.master.port()),
                                     "--master-fingerprint", env.master.fingerprint(), "try", "-b", "app", "--wait"};
    const std::vector<std::string> path = overMaster ? std::vector<std::string>{"--connect", "master", "--scheduler", "tryup"}
                                                     : std::vector<std::string>{"--connect", "local", "--jobdir", jobdir};
    argv.insert(argv.end(), path.begin(), path.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dev, {{"HOME", env.tmp.path()}, {"BUILDBOT_MASTER", ""}, {"BUILDBOT_AUTH", "alice:pw"}}, 60s);
  }
};

TEST(TryVcs, AMercurialCloneWithALocalCommitAndAnUncommittedChangeIsBuilt) {
  TryVcs t;
  HgRepo origin(t.env.tmp.sub("origin"));
  origin.init();
  const std::string base = origin.commit("main.txt", "broken\n", "first");
  run({"hg", "clone", "--quiet", origin.path(), t.dev});
  HgRepo dev(t.dev);
  dev.commit("feature.txt", "new feature\n", "local commit");  // a draft: not pushed
  writeFile(t.dev + "/main.txt", "fixed\n");
  t.up("hg: {repo: " + q(origin.path()) + "}");
  CmdResult r = t.tryCmd({"--comment", "hg try"});
  ASSERT_EQ(r.rc, 0) << r.describe() << t.env.logs("app", 1);
  EXPECT_NE(r.out.find("complete: success"), std::string::npos) << r.out;
  // Built on the newest public revision, on its branch (hg calls it default).
  auto rows = sqlite(t.env.master.dbPath(), "SELECT ss_revision, ss_branch FROM buildsets");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], base);
  EXPECT_EQ(rows[0][1], "default");
  const std::string logs = t.env.logs("app", 1);
  EXPECT_NE(logs.find("applying a try patch"), std::string::npos) << logs;
  EXPECT_NE(logs.find("got_revision: " + base), std::string::npos) << logs;
  // Nothing was committed upstream; a breaking patch fails, on a fresh tree.
  writeFile(t.dev + "/main.txt", "still broken\n");
  r = t.tryCmd({"--quiet"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_NE(r.out.find("complete: failure"), std::string::npos) << r.out;
  EXPECT_NE(t.env.logs("app", 2).find("a try build left its patch"), std::string::npos) << t.env.logs("app", 2);
  // The same tree over the authenticated connection.
  writeFile(t.dev + "/main.txt", "fixed\n");
  r = t.tryCmd({"--comment", "hg over the master connection"}, true);
  ASSERT_EQ(r.rc, 0) << r.describe() << t.env.logs("app", 3);
  EXPECT_NE(t.env.logs("app", 3).find("applying a try patch"), std::string::npos) << t.env.logs("app", 3);
}

TEST(TryVcs, ASubversionWorkingCopyWithAnAddedFileAndAnEditIsBuilt) {
  TryVcs t;
  SvnRepo origin(t.env.tmp.sub("origin"));
  origin.create();
  const std::string base = origin.commit("trunk/main.txt", "broken\n", "first");
  run({"svn", "checkout", "--quiet", origin.url() + "/trunk", t.dev});
  writeFile(t.dev + "/main.txt", "fixed\n");
  writeFile(t.dev + "/feature.txt", "new feature\n");
  run({"svn", "add", "--quiet", "feature.txt"}, t.dev);
  t.up("svn: {repo: " + q(origin.url()) + "}");
  CmdResult dry = t.tryCmd({"--dryrun"});
  ASSERT_EQ(dry.rc, 0) << dry.describe();
  EXPECT_NE(dry.out.find("Base-Revision: " + base), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("Branch: trunk"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("Patch-Level: 0"), std::string::npos) << dry.out;
  CmdResult r = t.tryCmd({});
  ASSERT_EQ(r.rc, 0) << r.describe() << t.env.logs("app", 1);
  const std::string logs = t.env.logs("app", 1);
  EXPECT_NE(logs.find("applying a try patch"), std::string::npos) << logs;
  // A hunk that does not apply: the step fails naming it, nothing written.
  writeFile(t.env.tmp.sub("stale.diff"), "--- main.txt\n+++ main.txt\n@@ -1 +1 @@\n-other\n+fixed\n");
  r = t.tryCmd({"--diff", t.env.tmp.sub("stale.diff"), "--baserev", base, "--branch", "trunk", "-p", "0", "--quiet"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  const std::string failed = t.env.logs("app", 2);
  EXPECT_NE(failed.find("the try patch does not apply"), std::string::npos) << failed;
  EXPECT_NE(failed.find("FAILED"), std::string::npos) << failed;
  EXPECT_EQ(readFile(t.env.workdir("app") + "/main.txt"), "broken\n");
  // The working copy over the authenticated connection.
  r = t.tryCmd({}, true);
  ASSERT_EQ(r.rc, 0) << r.describe() << t.env.logs("app", 3);
  EXPECT_NE(t.env.logs("app", 3).find("applying a try patch"), std::string::npos) << t.env.logs("app", 3);
}

}  // namespace
}  // namespace bb::test
