// The commit hooks in contrib/, each run by a real repository of its
// system: svn post-commit, hg changegroup (a push), git post-receive
// (a push), darcs apply posthook (a push) and CVS loginfo (a commit) send one change per commit (svn: per branch) to a real master
// with `buildbot sendchange`: branch, revision, author, comments, files.
#include <sys/stat.h>

#include <map>

#include <gtest/gtest.h>

#include "tests/functional/classic_vcs.hpp"
#include "tests/functional/vcs_support.hpp"

namespace bb::test {
namespace {

const std::string kContrib = std::string(BB_SOURCE_DIR) + "/contrib";

std::vector<std::vector<std::string>> hooksChangeRows(const MasterProcess& m) {
  return sqlite(m.dbPath(),
                "SELECT branch, revision, author, comments, "
                "(SELECT group_concat(path, ',') FROM change_files f WHERE f.change_id = c.id) "
                "FROM changes c ORDER BY id");
}

struct HookEnv : VcsEnv {
  HookEnv() {
    up(yaml("  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n", {"b1"}));
  }
  // The settings every hook reads.
  std::map<std::string, std::string> hookEnv() const {
    return {{"BUILDBOT_MASTER", "127.0.0.1:" + std::to_string(master.port())},
            {"BUILDBOT_AUTH", "alice:pw"},
            {"BUILDBOT_MASTER_FINGERPRINT", master.fingerprint()},
            {"BUILDBOT_CLIENT", BB_BIN_CLIENT}};
  }
};

void makeExecutable(const std::string& path, const std::string& text) {
  writeFile(path, text);
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
}

TEST(CommitHooks, SvnPostCommitSendsOneChangePerBranch) {
  HookEnv e;
  SvnRepo repo(e.tmp.sub("svn"));
  repo.create();
  repo.commit("trunk/a.txt", "one\n", "first");  // before the hook: no change
  repo.branchFromTrunk("fix");
  // Subversion runs hooks with an empty environment: the wrapper sets it.
  std::string wrapper = "#!/bin/sh\n";
  for (const auto& [k, v] : e.hookEnv()) wrapper += "export " + k + "='" + v + "'\n";
  wrapper += "export PATH=/usr/bin:/bin\nexec " + kContrib + "/svn_buildbot.sh \"$1\" \"$2\"\n";
  makeExecutable(repo.path() + "/repo/hooks/post-commit", wrapper);

  const std::string r4 = repo.commit("trunk/src/a.c", "int a;\n", "fix it\n\nwith details", "bob");
  repo.svn({"update", "-q"});
  writeFile(repo.path() + "/wc/trunk/a.txt", "two\n");
  writeFile(repo.path() + "/wc/branches/fix/-x.txt", "odd name\n");
  repo.svn({"add", "-q", "--", "branches/fix/-x.txt"});
  repo.svn({"commit", "-q", "--username", "carol", "-m", "-both branches"});
  const std::string r5 = "5";
  ASSERT_TRUE(waitFor([&] { return hooksChangeRows(e.master).size() >= 3; }, 20s)) << e.master.log();
  auto rows = hooksChangeRows(e.master);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"trunk", r4, "bob", "fix it\n\nwith details", "src/a.c"}));
  std::map<std::string, std::vector<std::string>> byBranch{{rows[1][0], rows[1]}, {rows[2][0], rows[2]}};
  EXPECT_EQ(byBranch["trunk"], (std::vector<std::string>{"trunk", r5, "carol", "-both branches", "a.txt"}));
  EXPECT_EQ(byBranch["branches/fix"],
            (std::vector<std::string>{"branches/fix", r5, "carol", "-both branches", "-x.txt"}));
}

TEST(CommitHooks, HgChangegroupSendsEveryPushedChangeset) {
  HookEnv e;
  HgRepo central(e.tmp.sub("central"));
  central.init();
  central.commit("a.txt", "one\n", "first");
  writeFile(central.path() + "/.hg/hgrc",
            "[hooks]\nchangegroup.buildbot = " + kContrib + "/hg_buildbot.sh\n");
  HgRepo dev(e.tmp.sub("dev"));
  auto cl = run({"hg", "clone", "-q", central.path(), dev.path()});
  ASSERT_EQ(cl.rc, 0) << cl.describe();
  const std::string n1 = dev.commit("a.txt", "two\n", "on default", "Bob <bob@example.org>");
  dev.branch("feature");
  const std::string n2 = dev.commit("dir/f.txt", "f\n", "on feature\nsecond line");
  auto push = run({"hg", "push", "--new-branch", "-q", central.path()}, dev.path(), e.hookEnv());
  ASSERT_EQ(push.rc, 0) << push.describe();
  ASSERT_TRUE(waitFor([&] { return hooksChangeRows(e.master).size() >= 2; }, 20s)) << e.master.log();
  auto rows = hooksChangeRows(e.master);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"default", n1, "Bob <bob@example.org>", "on default", "a.txt"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"feature", n2, "Alice <alice@example.org>",
                                               "on feature\nsecond line", "dir/f.txt"}));
}

TEST(CommitHooks, GitPostReceiveSendsNewCommitsPerBranch) {
  HookEnv e;
  const std::string bare = e.tmp.sub("central.git");
  ASSERT_EQ(run({"git", "init", "-q", "--bare", "-b", "main", bare}).rc, 0);
  makeExecutable(bare + "/hooks/post-receive", "#!/bin/sh\nexec " + kContrib + "/git_buildbot.sh\n");
  GitRepo dev(e.tmp.sub("dev"));
  dev.init();
  dev.commit("a.txt", "one\n", "first");
  dev.git({"remote", "add", "origin", bare});
  auto env = e.hookEnv();
  ASSERT_EQ(run({"git", "push", "-q", "origin", "main"}, dev.path(), env).rc, 0);
  ASSERT_TRUE(waitFor([&] { return hooksChangeRows(e.master).size() >= 1; }, 20s)) << e.master.log();
  const std::string c2 = dev.commit("b.txt", "two\n", "second on main");
  dev.git({"checkout", "-q", "-b", "feature"});
  const std::string c3 = dev.commit("src/f.txt", "f\n", "feature work");
  auto p1 = run({"git", "push", "-q", "origin", "main", "feature"}, dev.path(), env);
  ASSERT_EQ(p1.rc, 0) << p1.describe();
  ASSERT_TRUE(waitFor([&] { return hooksChangeRows(e.master).size() >= 3; }, 20s)) << e.master.log();
  auto rows = hooksChangeRows(e.master);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "main");
  EXPECT_EQ(rows[0][4], "a.txt");
  std::map<std::string, std::vector<std::string>> byBranch{{rows[1][0], rows[1]}, {rows[2][0], rows[2]}};
  EXPECT_EQ(byBranch["main"][1], c2);
  EXPECT_EQ(byBranch["main"][4], "b.txt");
  EXPECT_EQ(byBranch["main"][3], "second on main");
  EXPECT_EQ(byBranch["feature"][1], c3) << "a new branch reports only what main lacks";
  EXPECT_EQ(byBranch["feature"][4], "src/f.txt");
  EXPECT_NE(byBranch["feature"][2].find("@"), std::string::npos) << byBranch["feature"][2];
}

TEST(CommitHooks, DarcsApplyPosthookSendsEveryPushedPatch) {
  HookEnv e;
  const std::string home = e.tmp.sub("home");
  DarcsRepo repo(e.tmp.sub("darcs"), home);
  repo.create("trunk");
  repo.commit("trunk", "a.txt", "one\n", "first");
  writeFile(repo.base() + "/trunk/_darcs/prefs/defaults",
            "apply posthook " + kContrib + "/darcs_buildbot.sh\napply run-posthook\n");
  repo.fork("trunk", "dev");
  const std::string p1 = repo.commit("dev", "a.txt", "two\n", "fix a\n\nthe long comment", "Bob <bob@example.org>");
  const std::string p2 = repo.commit("dev", "src/-n.c", "int n;\n", "add a file");
  auto env = e.hookEnv();
  env["HOME"] = home;
  auto push = run({"darcs", "push", "--all", "--quiet", "--", repo.base() + "/trunk"}, repo.base() + "/dev", env);
  ASSERT_EQ(push.rc, 0) << push.describe();
  ASSERT_TRUE(waitFor([&] { return hooksChangeRows(e.master).size() >= 2; }, 20s)) << e.master.log();
  auto rows = hooksChangeRows(e.master);
  ASSERT_EQ(rows.size(), 2u);
  std::map<std::string, std::vector<std::string>> byRev{{rows[0][1], rows[0]}, {rows[1][1], rows[1]}};
  EXPECT_EQ(byRev[p1], (std::vector<std::string>{"trunk", p1, "Bob <bob@example.org>",
                                                 "fix a\n\nthe long comment", "a.txt"}));
  EXPECT_EQ(byRev[p2], (std::vector<std::string>{"trunk", p2, "Alice <alice@example.org>", "add a file",
                                                 "src/-n.c"}));
}

TEST(CommitHooks, CvsLoginfoSendsOneChangePerDirectoryWithTheBranchTag) {
  HookEnv e;
  const std::string home = e.tmp.sub("home");
  CvsRepo repo(e.tmp.sub("cvs"), home);
  repo.create();
  repo.branch("FIX");
  // Install the hook the way an admin does: check out CVSROOT, edit, commit.
  const std::string adm = e.tmp.sub("cvs/adm");
  vcsMust({"cvs", "-Q", "-d", repo.root(), "checkout", "-d", "adm", "CVSROOT"}, e.tmp.sub("cvs"), home);
  std::string line = "ALL env";
  for (const auto& [k, v] : e.hookEnv()) line += " " + k + "=" + v;
  line += " " + kContrib + "/cvs_buildbot.sh $USER %p %{sVv}\n";
  writeFile(adm + "/loginfo", readFile(adm + "/loginfo") + line);
  vcsMust({"cvs", "-Q", "commit", "-m", "the buildbot hook"}, adm, home);

  writeFile(repo.wc("HEAD") + "/a.txt", "two\n");
  auto c1 = run({"cvs", "-Q", "commit", "-m", "on the trunk\nsecond line"}, repo.wc("HEAD"), {{"HOME", home}});
  ASSERT_EQ(c1.rc, 0) << c1.describe();
  ASSERT_TRUE(waitFor([&] { return hooksChangeRows(e.master).size() >= 1; }, 20s)) << e.master.log() << c1.describe();
  repo.cvs({"-Q", "update", "-d"}, "FIX");
  writeFile(repo.wc("FIX") + "/sub/b.txt", "b\n");
  repo.cvs({"add", "sub"}, "FIX");
  repo.cvs({"add", "sub/b.txt"}, "FIX");
  writeFile(repo.wc("FIX") + "/a.txt", "fix\n");
  repo.cvs({"commit", "-m", "on the branch"}, "FIX");
  ASSERT_TRUE(waitFor([&] { return hooksChangeRows(e.master).size() >= 3; }, 20s)) << e.master.log();
  auto rows = hooksChangeRows(e.master);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "");
  EXPECT_EQ(rows[0][3], "on the trunk\nsecond line");
  EXPECT_EQ(rows[0][4], "a.txt");
  EXPECT_EQ(rows[0][1].size(), 20u) << "a date for -D: " << rows[0][1];
  EXPECT_FALSE(rows[0][2].empty());
  std::map<std::string, std::vector<std::string>> byFile{{rows[1][4], rows[1]}, {rows[2][4], rows[2]}};
  ASSERT_TRUE(byFile.count("a.txt") && byFile.count("sub/b.txt")) << rows[1][4] << " " << rows[2][4];
  EXPECT_EQ(byFile["a.txt"][0], "FIX");
  EXPECT_EQ(byFile["sub/b.txt"][0], "FIX");
  EXPECT_EQ(byFile["sub/b.txt"][3], "on the branch");
}

}  // namespace
}  // namespace bb::test
