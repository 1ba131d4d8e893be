// Shell commands: headers, timeouts, tree kills, interrupts, workdirs and
// credit-based flow control. Time is a ManualClock: no test sleeps.
#include "slave/command.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "common/event_loop.hpp"
#include "slave/child_reaper.hpp"
#include "slave/process_tree.hpp"
#include "slave/workdir.hpp"
#include "slave_test_util.hpp"

namespace bb {
namespace {

class CommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    // As the slave does: orphans of killed commands come back to us.
    ASSERT_TRUE(ChildReaper::becomeSubreaper(error)) << error;
  }

  std::unique_ptr<RemoteCommand> make(const Json& args, std::int64_t credit = 1 << 20,
                                      const std::string& kind = "shell") {
    return RemoteCommand::create(ctx, sink, 7, kind, credit, args);
  }
  bool runToEnd() {
    return test::runUntil(io, [&] { return sink.complete; });
  }
  bool waitForStdout(const std::string& text) {
    return test::runUntil(io, [&] { return sink.out().find(text) != std::string::npos; });
  }

  test::TempDir base;
  boost::asio::io_context io;
  ManualClock clock;
  ChildReaper reaper{io};
  CommandContext ctx{io, clock, reaper, base.path(), std::chrono::seconds(5), currentEnvironment()};
  test::RecordingSink sink;
};

TEST_F(CommandTest, ShellArgvRunsInItsWorkdirWithHeaders) {
  auto cmd = make({{"argv", {"sh", "-c", "pwd; echo \"$GREETING\" >&2; exit 4"}},
                   {"workdir", "builder/build"},
                   {"env", {{"GREETING", "hello"}}}});
  cmd->start();
  ASSERT_TRUE(runToEnd());
  std::string dir = base.path() + "/builder/build";
  EXPECT_EQ(sink.out(), dir + "\n");
  EXPECT_EQ(sink.err(), "hello\n");
  EXPECT_NE(sink.hdr().find("running: sh -c 'pwd; echo \"$GREETING\" >&2; exit 4'\n"),
            std::string::npos)
      << sink.hdr();
  EXPECT_NE(sink.hdr().find("in dir: " + dir + "\n"), std::string::npos);
  EXPECT_NE(sink.hdr().find("exit code 4\nelapsed 0.000 s\n"), std::string::npos) << sink.hdr();
  ASSERT_TRUE(sink.done);
  EXPECT_EQ((*sink.done)["cmd_id"], 7);
  EXPECT_EQ((*sink.done)["rc"], 4);
  EXPECT_EQ((*sink.done)["signal"], 0);
  EXPECT_EQ((*sink.done)["timed_out"], false);
  EXPECT_EQ((*sink.done)["interrupted"], false);
  EXPECT_EQ((*sink.done)["error"], "");
}

TEST_F(CommandTest, ShellCommandStringUsesBinSh) {
  auto cmd = make({{"command", "echo $((6 * 7))"}});
  cmd->start();
  ASSERT_TRUE(runToEnd());
  EXPECT_EQ(sink.out(), "42\n");
  EXPECT_NE(sink.hdr().find("running: /bin/sh -c 'echo $((6 * 7))'"), std::string::npos);
  EXPECT_EQ((*sink.done)["rc"], 0);
}

TEST_F(CommandTest, SignalDeathIsReported) {
  auto cmd = make({{"command", "kill -KILL $$"}});
  cmd->start();
  ASSERT_TRUE(runToEnd());
  EXPECT_EQ((*sink.done)["rc"], -1);
  EXPECT_EQ((*sink.done)["signal"], SIGKILL);
  EXPECT_NE(sink.hdr().find("killed by signal 9 (SIGKILL)\n"), std::string::npos);
}

TEST_F(CommandTest, TimeoutKillsTheWholeTreeIncludingSetsidChildren) {
  auto cmd = make({{"command", "sleep 300 & sleep 300 & setsid sleep 300 & echo ready; wait"},
                   {"timeout", 5}});
  cmd->start();
  ASSERT_TRUE(waitForStdout("ready"));
  pid_t sh = cmd->runningPid();
  ASSERT_GT(sh, 0);
  // All three children were forked before `echo ready`.
  ASSERT_EQ(descendantsOf(sh).size(), 3u);
  clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(runToEnd());
  const auto& pids = cmd->killedPids();
  ASSERT_EQ(pids.size(), 4u);
  EXPECT_EQ(pids[0], sh);
  for (pid_t p : pids) EXPECT_FALSE(isAlive(p)) << "survivor " << p;
  EXPECT_NE(sink.hdr().find("command timed out after 5 s (timeout); killing process tree: pids " +
                            formatPids(pids) + "\n"),
            std::string::npos)
      << sink.hdr();
  EXPECT_NE(sink.hdr().find("process tree killed\n"), std::string::npos);
  EXPECT_NE(sink.hdr().find("\ntimeout 5 s\n"), std::string::npos) << sink.hdr();
  EXPECT_EQ((*sink.done)["timed_out"], true);
  EXPECT_EQ((*sink.done)["interrupted"], false);
  EXPECT_EQ((*sink.done)["signal"], SIGTERM);
}

TEST_F(CommandTest, ChildrenIgnoringSigtermGetSigkillAfterTheGrace) {
  // The subshell ignores TERM and keeps stdout open, so only SIGKILL ends it.
  auto cmd = make({{"command", "(trap '' TERM; echo ready; while :; do sleep 1; done) ; :"},
                   {"timeout", 10}});
  cmd->start();
  ASSERT_TRUE(waitForStdout("ready"));
  clock.advance(std::chrono::seconds(10));
  // SIGTERM reached everything; the trapping subshell survives it.
  ASSERT_FALSE(sink.complete);
  pid_t sh = cmd->killedPids().at(0);
  ASSERT_TRUE(test::runUntil(io, [&] { return !isAlive(sh); }));
  EXPECT_FALSE(sink.complete);
  clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(runToEnd());
  for (pid_t p : cmd->killedPids()) EXPECT_FALSE(isAlive(p)) << "survivor " << p;
  EXPECT_NE(sink.hdr().find("still running after 5 s; sending SIGKILL"), std::string::npos)
      << sink.hdr();
  EXPECT_EQ((*sink.done)["timed_out"], true);
}

TEST_F(CommandTest, MaxSilenceKillsAQuietCommand) {
  auto cmd = make({{"command", "echo ready; sleep 300"}, {"max_silence", 3}, {"timeout", 100}});
  cmd->start();
  ASSERT_TRUE(waitForStdout("ready"));
  clock.advance(std::chrono::seconds(2));
  EXPECT_FALSE(sink.complete);
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(runToEnd());
  EXPECT_NE(sink.hdr().find("command timed out after 3 s without output (max_silence); "
                            "killing process tree: pids "),
            std::string::npos)
      << sink.hdr();
  EXPECT_EQ((*sink.done)["timed_out"], true);
  for (pid_t p : cmd->killedPids()) EXPECT_FALSE(isAlive(p));
}

TEST_F(CommandTest, OutputResetsTheSilenceTimer) {
  auto cmd = make({{"command", "echo one; read x; echo two"}, {"max_silence", 3}});
  cmd->start();
  ASSERT_TRUE(waitForStdout("one"));
  clock.advance(std::chrono::seconds(2));
  // stdin is /dev/null: `read` returns at once, and "two" is new output.
  ASSERT_TRUE(runToEnd());
  EXPECT_EQ((*sink.done)["timed_out"], false);
  EXPECT_EQ((*sink.done)["rc"], 0);
}

TEST_F(CommandTest, InterruptKillsAndReportsInterrupted) {
  auto cmd = make({{"command", "echo ready; sleep 300"}});
  cmd->start();
  ASSERT_TRUE(waitForStdout("ready"));
  cmd->interrupt("stopped by alice");
  ASSERT_TRUE(runToEnd());
  EXPECT_NE(sink.hdr().find("interrupted: stopped by alice; killing process tree"),
            std::string::npos);
  EXPECT_EQ((*sink.done)["interrupted"], true);
  EXPECT_EQ((*sink.done)["timed_out"], false);
}

TEST_F(CommandTest, WorkdirEscapesAreRejected) {
  for (const char* bad : {"../elsewhere", "/tmp", "a/../../b", ".."}) {
    test::RecordingSink s;
    auto cmd = RemoteCommand::create(ctx, s, 1, "shell", 1 << 20,
                                     {{"command", "touch escaped"}, {"workdir", bad}});
    cmd->start();
    ASSERT_TRUE(s.complete) << bad;
    EXPECT_EQ((*s.done)["rc"], -1);
    EXPECT_EQ((*s.done)["error"], std::string("workdir '") + bad + "' escapes the slave basedir");
  }
  std::string error;
  EXPECT_EQ(resolveWorkdir("/srv/slave", "a/../b", error), "/srv/slave/b");
  EXPECT_EQ(resolveWorkdir("/srv/slave", "", error), "/srv/slave");
  EXPECT_EQ(resolveWorkdir("/srv/slave/", "x/./y/", error), "/srv/slave/x/y");
}

TEST_F(CommandTest, MalformedArgsAndUnknownKindsThrow) {
  EXPECT_THROW(make({{"workdir", "x"}}), ProtocolError);
  EXPECT_THROW(make({{"argv", Json::array()}}), ProtocolError);
  EXPECT_THROW(make({{"argv", {1, 2}}}), ProtocolError);
  EXPECT_THROW(make({{"command", "x"}, {"env", {{"A", 1}}}}), ProtocolError);
  EXPECT_THROW(make({{"command", "x"}}, 100, "upload"), ProtocolError);
  EXPECT_THROW(make({{"repo", "/r"}, {"mode", "fresh"}}, 100, "git"), ProtocolError);
}

TEST_F(CommandTest, NothingIsReadWithoutCredit) {
  auto cmd = make({{"command", "echo hello; echo oops >&2"}}, /*credit=*/0);
  cmd->start();
  // The child can finish (its output fits in the pipes), but no byte may
  // be read, and the command cannot complete, until credit arrives.
  pid_t pid = cmd->runningPid();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(test::runUntil(io, [&] { return !isAlive(pid); }));
  for (int i = 0; i < 20; ++i) io.poll();
  EXPECT_EQ(sink.bytes, 0u);
  EXPECT_FALSE(sink.complete);

  cmd->addCredit(5);
  for (int i = 0; i < 20; ++i) io.poll();
  EXPECT_EQ(sink.bytes, 5u);
  EXPECT_EQ(sink.hdr(), "runni");
  EXPECT_FALSE(sink.complete);

  cmd->addCredit(1 << 20);
  ASSERT_TRUE(runToEnd());
  EXPECT_EQ(sink.out(), "hello\n");
  EXPECT_EQ(sink.err(), "oops\n");
  EXPECT_EQ(sink.hdr().substr(0, 9), "running: ");
}

TEST_F(CommandTest, LargeOutputFlowsInChunksWithinTheCredit) {
  // 1 MiB of output; the "master" grants 100 000 bytes at a time.
  auto cmd = make({{"command", "head -c 1048576 /dev/zero | tr '\\0' x"}}, 100000);
  std::int64_t granted = 100000;
  cmd->start();
  ASSERT_TRUE(test::runUntil(io, [&] {
    EXPECT_LE(static_cast<std::int64_t>(sink.bytes), granted);
    if (static_cast<std::int64_t>(sink.bytes) == granted) {
      cmd->addCredit(100000);
      granted += 100000;
    }
    return sink.complete;
  }));
  EXPECT_EQ(sink.out(), std::string(1048576, 'x'));
  EXPECT_LE(sink.maxChunk, RemoteCommand::kMaxChunk);
  EXPECT_EQ((*sink.done)["rc"], 0);
}

}  // namespace
}  // namespace bb
