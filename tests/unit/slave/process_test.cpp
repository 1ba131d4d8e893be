// Process spawning, pipes, exit statuses and the reaper.
#include "slave/process.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "slave/child_reaper.hpp"
#include "slave_test_util.hpp"

namespace bb {
namespace {

struct ProcessRun {
  std::string out, err;
  std::optional<ExitStatus> status;
  std::string error;
};

ProcessRun runToEnd(const std::vector<std::string>& argv, const std::string& workdir,
             std::map<std::string, std::string> env = currentEnvironment()) {
  boost::asio::io_context io;
  ChildReaper reaper(io);
  ProcessRun r;
  Process::Handlers h;
  h.allowance = [] { return std::size_t{4096}; };
  h.onOutput = [&](Stream s, const char* d, std::size_t n) {
    (s == Stream::Stdout ? r.out : r.err).append(d, n);
  };
  h.onFinished = [&](const ExitStatus& st) { r.status = st; };
  ProcessSpec spec{argv, workdir, std::move(env)};
  auto p = Process::spawn(io, reaper, spec, std::move(h), r.error);
  if (!p) return r;
  EXPECT_TRUE(test::runUntil(io, [&] { return r.status.has_value(); }));
  EXPECT_TRUE(p->finished());
  return r;
}

TEST(Process, ReportsExitCodeAndBothStreams) {
  test::TempDir dir;
  ProcessRun r = runToEnd({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, dir.path());
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_TRUE(r.status->exited());
  EXPECT_EQ(r.status->exitCode, 3);
  EXPECT_EQ(r.status->describe(), "exit code 3");
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Process, ReportsTheKillingSignal) {
  test::TempDir dir;
  ProcessRun r = runToEnd({"/bin/sh", "-c", "kill -TERM $$"}, dir.path());
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_FALSE(r.status->exited());
  EXPECT_EQ(r.status->signal, SIGTERM);
  EXPECT_EQ(r.status->describe(), "killed by signal 15 (SIGTERM)");
}

TEST(Process, KeepsEachStreamInOrder) {
  test::TempDir dir;
  ProcessRun r = runToEnd({"/bin/sh", "-c",
                    "i=0; while [ $i -lt 3000 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done"},
                   dir.path());
  ASSERT_TRUE(r.status) << r.error;
  std::string wantOut, wantErr;
  for (int i = 0; i < 3000; ++i) {
    wantOut += "o" + std::to_string(i) + "\n";
    wantErr += "e" + std::to_string(i) + "\n";
  }
  EXPECT_EQ(r.out, wantOut);
  EXPECT_EQ(r.err, wantErr);
}

TEST(Process, CreatesTheWorkdirAndPassesTheEnvironment) {
  test::TempDir dir;
  std::string work = dir.path() + "/a/b/c";
  auto env = currentEnvironment();
  env["BB_TEST_VALUE"] = "forty two";
  ProcessRun r = runToEnd({"sh", "-c", "pwd; echo \"$BB_TEST_VALUE\""}, work,
                   env);
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_TRUE(std::filesystem::is_directory(work));
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), work);
  EXPECT_NE(r.out.find("forty two\n"), std::string::npos);
}

TEST(Process, StdinIsDevNullAndNoSlaveDescriptorLeaks) {
  test::TempDir dir;
  // A descriptor the slave opened without O_CLOEXEC (as Asio does for
  // sockets) must not reach the command. `ls` itself opens the directory
  // as fd 3; anything above it leaked.
  int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 3);
  ProcessRun r = runToEnd({"/bin/sh", "-c", "cat; ls /proc/self/fd"}, dir.path());
  ::close(leaky);
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_EQ(r.status->exitCode, 0);
  EXPECT_EQ(r.out, "0\n1\n2\n3\n");
}

TEST(Process, RunsInItsOwnGroupWithNoSignalBlockedOrIgnoredThatTheSlaveHad) {
  test::TempDir dir;
  // The slave ignores SIGPIPE and may block signals in its threads; a
  // build must start with neither, and lead a process group of its own
  // (so interrupting a build signals everything it started).
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
  auto oldPipe = ::signal(SIGPIPE, SIG_IGN);
  // cat, not a shell: dash clears its signal mask when it starts.
  ProcessRun r = runToEnd({"/bin/cat", "/proc/self/status", "/proc/self/stat"}, dir.path());
  ::signal(SIGPIPE, oldPipe);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_NE(r.out.find("SigBlk:\t0000000000000000\n"), std::string::npos) << r.out;
  const auto ign = r.out.find("SigIgn:\t");
  ASSERT_NE(ign, std::string::npos) << r.out;
  const unsigned long long ignored = std::stoull(r.out.substr(ign + 8, 16), nullptr, 16);
  EXPECT_EQ(ignored & (1ull << (SIGPIPE - 1)), 0u) << r.out;
  // /proc/self/stat: "PID (cat) STATE PPID PGRP ...".
  const std::string fromPid = r.out.substr(r.out.rfind('\n', r.out.rfind("(cat)")) + 1);
  std::istringstream fields(fromPid);
  long pid = 0, ppid = 0, pgrp = -1;
  std::string comm, state;
  fields >> pid >> comm >> state >> ppid >> pgrp;
  EXPECT_GT(pid, 0) << fromPid;
  EXPECT_EQ(pgrp, pid) << fromPid;
}

TEST(Process, MissingProgramIsASpawnError) {
  test::TempDir dir;
  ProcessRun r = runToEnd({"no-such-program-bbslave"}, dir.path());
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.error, "program 'no-such-program-bbslave' not found in PATH");
}

TEST(Process, ExecFailureIsASpawnError) {
  test::TempDir dir;
  std::string script = dir.path() + "/not-executable";
  { std::ofstream(script) << "#!/bin/sh\necho hi\n"; }
  ProcessRun r = runToEnd({script}, dir.path());
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.error, "cannot execute '" + script + "': Permission denied");
}

TEST(Process, FindProgramSearchesThePathOfTheGivenEnvironment) {
  test::TempDir dir;
  std::string tool = dir.path() + "/mytool";
  { std::ofstream(tool) << "#!/bin/sh\n"; }
  std::filesystem::permissions(tool, std::filesystem::perms::owner_all);
  EXPECT_EQ(findProgram("mytool", {{"PATH", "/nonexistent:" + dir.path()}}), tool);
  EXPECT_EQ(findProgram("mytool", {{"PATH", "/usr/bin"}}), "");
  EXPECT_EQ(findProgram("./x/y", {}), "./x/y");
}

}  // namespace
}  // namespace bb
