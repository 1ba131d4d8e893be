// The git command against real repositories made with the git CLI.
#include "slave/git_command.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/event_loop.hpp"
#include "slave/child_reaper.hpp"
#include "slave_test_util.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;

class GitCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin = base.path() + "/origin";
    git("init --quiet -b main " + origin);
    commitFile("a.txt", "one\n", "first");
  }

  // Runs a shell command in the origin repo and returns its stdout.
  std::string inOrigin(const std::string& cmd) {
    std::string full = "cd '" + origin + "' && " + cmd;
    FILE* p = ::popen(full.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed");
    std::string out;
    char buf[256];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int rc = ::pclose(p);
    EXPECT_EQ(rc, 0) << cmd;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  void git(const std::string& args) {
    std::string cmd = "git -c user.name=Test -c user.email=t@example.org " + args + " >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string commitFile(const std::string& name, const std::string& text, const std::string& msg) {
    { std::ofstream(origin + "/" + name) << text; }
    inOrigin("git add " + name + " && git -c user.name=Test -c user.email=t@example.org "
             "commit --quiet -m " + msg);
    return inOrigin("git rev-parse HEAD");
  }

  // Runs one git command to completion and returns its CommandDone.
  Json checkout(Json args) {
    sink = test::RecordingSink{};
    if (!args.contains("repo")) args["repo"] = origin;
    if (!args.contains("workdir")) args["workdir"] = "builder/build";
    auto cmd = RemoteCommand::create(ctx, sink, 3, "git", 1 << 20, args);
    cmd->start();
    EXPECT_TRUE(test::runUntil(io, [&] { return sink.complete; }));
    return sink.done.value_or(Json::object());
  }
  fs::path work() const { return fs::path(base.path()) / "builder/build"; }

  test::TempDir base;
  std::string origin;
  boost::asio::io_context io;
  ManualClock clock;
  ChildReaper reaper{io};
  CommandContext ctx{io, clock, reaper, base.path(), std::chrono::seconds(5), currentEnvironment()};
  test::RecordingSink sink;
};

TEST_F(GitCommandTest, ClonesThenUpdatesIncrementallyThenSwitchesBranch) {
  std::string first = inOrigin("git rev-parse HEAD");
  Json done = checkout({{"branch", "main"}, {"mode", "incremental"}});
  EXPECT_EQ(done["rc"], 0) << sink.hdr() << sink.err();
  EXPECT_EQ(done["props"]["got_revision"], first);
  EXPECT_EQ(test::readFile(work() / "a.txt"), "one\n");
  EXPECT_EQ(test::readFile(work() / ".buildbot-branch"), "main\n" + origin + "\n");
  EXPECT_NE(sink.hdr().find("running: git clone --quiet -- " + origin + " .\n"), std::string::npos)
      << sink.hdr();
  EXPECT_EQ(sink.out(), first + "\n");  // rev-parse output is streamed too

  // A second commit; incremental keeps untracked files and does not clone.
  std::string second = commitFile("a.txt", "two\n", "second");
  { std::ofstream(work() / "build-output.o") << "object"; }
  done = checkout({{"branch", "main"}, {"mode", "incremental"}});
  EXPECT_EQ(done["rc"], 0) << sink.hdr() << sink.err();
  EXPECT_EQ(done["props"]["got_revision"], second);
  EXPECT_EQ(test::readFile(work() / "a.txt"), "two\n");
  EXPECT_TRUE(fs::exists(work() / "build-output.o"));
  EXPECT_EQ(sink.hdr().find("git clone"), std::string::npos) << sink.hdr();
  EXPECT_NE(sink.hdr().find("git fetch --quiet origin +refs/heads/main:refs/remotes/origin/main"),
            std::string::npos)
      << sink.hdr();

  // Another branch: the stamp names main, so a fresh clone.
  inOrigin("git checkout --quiet -b feature");
  std::string third = commitFile("b.txt", "feature\n", "third");
  inOrigin("git checkout --quiet main");
  done = checkout({{"branch", "feature"}, {"mode", "incremental"}});
  EXPECT_EQ(done["rc"], 0) << sink.hdr() << sink.err();
  EXPECT_EQ(done["props"]["got_revision"], third);
  EXPECT_NE(sink.hdr().find("branch stamp says 'main " + origin + "', this build wants 'feature " +
                            origin + "': checking out fresh instead of updating\n"),
            std::string::npos)
      << sink.hdr();
  EXPECT_FALSE(fs::exists(work() / "build-output.o")) << "a fresh clone starts empty";
  EXPECT_EQ(test::readFile(work() / "b.txt"), "feature\n");
  EXPECT_EQ(test::readFile(work() / ".buildbot-branch"), "feature\n" + origin + "\n");
  // The stamp is excluded, so the checkout looks clean apart from builds.
  EXPECT_NE(test::readFile(work() / ".git/info/exclude").find("/.buildbot-branch"), std::string::npos);
}

TEST_F(GitCommandTest, ChecksOutAGivenRevision) {
  std::string first = inOrigin("git rev-parse HEAD");
  commitFile("a.txt", "two\n", "second");
  Json done = checkout({{"branch", "main"}, {"revision", first}});
  EXPECT_EQ(done["rc"], 0) << sink.hdr() << sink.err();
  EXPECT_EQ(done["props"]["got_revision"], first);
  EXPECT_EQ(test::readFile(work() / "a.txt"), "one\n");
}

TEST_F(GitCommandTest, ARevisionThatIsNotThereIsNamedWithTheRepository) {
  Json done = checkout({{"branch", "main"}, {"revision", "abc123"}});
  EXPECT_EQ(done["rc"], 1) << sink.hdr() << sink.err();
  EXPECT_EQ(done["error"], "");
  EXPECT_FALSE(done["props"].contains("got_revision"));
  EXPECT_NE(sink.hdr().find("revision abc123 not found in " + origin + "\n"),
            std::string::npos)
      << sink.hdr();
  // Our line instead of git's raw complaint.
  EXPECT_EQ(sink.err().find("pathspec"), std::string::npos) << sink.err();
  EXPECT_EQ(sink.err().find("fatal"), std::string::npos) << sink.err();
}

TEST_F(GitCommandTest, FullModeStartsFromAFreshClone) {
  Json done = checkout({{"branch", "main"}});
  ASSERT_EQ(done["rc"], 0) << sink.hdr() << sink.err();
  { std::ofstream(work() / "stale.o") << "old"; }
  done = checkout({{"branch", "main"}, {"mode", "full"}});
  EXPECT_EQ(done["rc"], 0) << sink.hdr() << sink.err();
  EXPECT_FALSE(fs::exists(work() / "stale.o"));
  EXPECT_NE(sink.hdr().find("mode full: removing " + work().string()), std::string::npos);
  EXPECT_NE(sink.hdr().find("git clone"), std::string::npos);
}

TEST_F(GitCommandTest, AFailingStepEndsTheCommandWithItsExitCode) {
  Json done = checkout({{"repo", base.path() + "/no-such-repo"}, {"branch", "main"}});
  EXPECT_EQ(done["rc"], 128) << sink.hdr() << sink.err();
  EXPECT_EQ(done["error"], "");
  EXPECT_FALSE(done["props"].contains("got_revision"));
  EXPECT_NE(sink.hdr().find("git step failed: exit code 128"), std::string::npos) << sink.hdr();
  EXPECT_FALSE(sink.err().empty());  // git's own complaint reaches the log

  done = checkout({{"branch", "no-such-branch"}});
  EXPECT_NE(done["rc"], 0);
}

TEST_F(GitCommandTest, WorkdirMustStayInsideTheBasedir) {
  Json done = checkout({{"branch", "main"}, {"workdir", "../outside"}});
  EXPECT_EQ(done["rc"], -1);
  EXPECT_EQ(done["error"], "workdir '../outside' escapes the slave basedir");
  EXPECT_FALSE(fs::exists(fs::path(base.path()).parent_path() / "outside"));
}

}  // namespace
}  // namespace bb

namespace bb {
namespace {

TEST_F(GitCommandTest, HostileBranchesRevisionsAndUrlsAreRefusedBeforeGitRuns) {
  const std::vector<std::pair<Json, std::string>> cases{
      {{{"repo", origin}, {"branch", "--upload-pack=touch /tmp/x"}}, "bad branch name"},
      {{{"repo", origin}, {"branch", "main"}, {"revision", "-x"}}, "bad revision '-x'"},
      {{{"repo", "--upload-pack=touch /tmp/x"}}, "starts with '-'"},
      {{{"repo", "ssh://-oProxyCommand=touch%20/tmp/x/repo"}}, "host starts with '-'"},
      {{{"repo", "ext::sh -c touch% /tmp/x"}}, "remote-helper"},
  };
  for (const auto& [args, want] : cases) {
    Json a = args;
    a["workdir"] = "builder/build";
    try {
      RemoteCommand::create(ctx, sink, 9, "git", 1 << 20, a);
      ADD_FAILURE() << "accepted " << a.dump();
    } catch (const ProtocolError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(fs::exists(work())) << "nothing ran";
}

}  // namespace
}  // namespace bb
