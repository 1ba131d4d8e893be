// runSubprocess: output, input, exit codes, timeouts, and what reaches the
// program (its own process group, no descriptor of the caller's).
#include "common/subprocess.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

namespace bb {
namespace {

TEST(Subprocess, CapturesBothStreamsAndTheExitCode) {
  const SubprocessResult r = runSubprocess({"sh", "-c", "echo out; echo err >&2; exit 4"});
  EXPECT_EQ(r.exitCode, 4);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timedOut);
}

TEST(Subprocess, WritesTheInputAndRunsInTheGivenDirectory) {
  const std::string input(200000, 'x');  // more than a pipe holds
  const SubprocessResult r = runSubprocess({"sh", "-c", "pwd; wc -c"}, "/tmp", std::chrono::seconds(30), &input);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "/tmp\n200000\n");
}

TEST(Subprocess, NoDescriptorOfTheCallersReachesTheProgram) {
  // The master's sockets are opened without O_CLOEXEC; a git child that
  // kept one would hold the master's port after the master is gone.
  const int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 3);
  const SubprocessResult r = runSubprocess({"ls", "/proc/self/fd"});
  ::close(leaky);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "0\n1\n2\n3\n");  // ls's own directory descriptor is 3
}

TEST(Subprocess, RunsInItsOwnProcessGroup) {
  const SubprocessResult r = runSubprocess({"cat", "/proc/self/stat"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::istringstream fields(r.out);  // PID (cat) STATE PPID PGRP ...
  long pid = 0, ppid = 0, pgrp = -1;
  std::string comm, state;
  fields >> pid >> comm >> state >> ppid >> pgrp;
  EXPECT_EQ(ppid, ::getpid());
  EXPECT_EQ(pgrp, pid);
}

TEST(Subprocess, AProgramThatIsNotThereSaysSo) {
  const SubprocessResult r = runSubprocess({"no-such-program-bbsub"});
  EXPECT_EQ(r.exitCode, -1);
  EXPECT_EQ(r.err, "cannot run no-such-program-bbsub: No such file or directory");
}

TEST(Subprocess, ADirectoryThatIsNotThereSaysSo) {
  const SubprocessResult r = runSubprocess({"true"}, "/nonexistent-bbsub");
  EXPECT_EQ(r.exitCode, -1);
  EXPECT_EQ(r.err, "cannot enter /nonexistent-bbsub: No such file or directory");
}

TEST(Subprocess, ATimeoutKillsTheWholeGroup) {
  const auto before = std::chrono::steady_clock::now();
  const SubprocessResult r = runSubprocess({"sh", "-c", "sleep 30 & sleep 30"}, "", std::chrono::seconds(1));
  EXPECT_TRUE(r.timedOut);
  EXPECT_EQ(r.exitCode, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(20));
}

}  // namespace
}  // namespace bb
