#include "common/daemon.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "common/logging.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bb-daemon-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static void spit(const std::string& p, const std::string& text) {
    std::ofstream out(p);
    out << text;
  }

  // Forks a child that runs `body` and then _exits (never returns into
  // gtest). Returns its pid.
  static pid_t forkChild(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      int rc = 99;
      try {
        rc = body();
      } catch (...) {
      }
      _exit(rc);
    }
    return pid;
  }

  static int waitStatus(pid_t pid) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return status;
  }

  fs::path dir_;
};

TEST_F(DaemonTest, PidFileIsExclusiveAndNamesTheOwner) {
  const std::string pidPath = path("master.pid");
  {
    PidFile held = PidFile::acquire(pidPath);
    EXPECT_EQ(held.path(), pidPath);
    EXPECT_EQ(readPidFile(pidPath), ::getpid());
    EXPECT_TRUE(pidFileLocked(pidPath));
    try {
      PidFile::acquire(pidPath);
      FAIL() << "a second acquire must fail";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "already running (pid " + std::to_string(::getpid()) +
                                           ", pid file " + pidPath + ")");
    }
    // Still ours after the failed attempt.
    EXPECT_TRUE(pidFileLocked(pidPath));
  }
  EXPECT_FALSE(fs::exists(pidPath));
  EXPECT_FALSE(pidFileLocked(pidPath));
  PidFile again = PidFile::acquire(pidPath);
  EXPECT_TRUE(pidFileLocked(pidPath));
}

TEST_F(DaemonTest, PidFileHeldByAnotherProcess) {
  const std::string pidPath = path("slave.pid");
  int toParent[2], toChild[2];
  ASSERT_EQ(::pipe(toParent), 0);
  ASSERT_EQ(::pipe(toChild), 0);
  const pid_t child = forkChild([&] {
    PidFile f = PidFile::acquire(pidPath);
    char c = 'x';
    if (::write(toParent[1], &c, 1) != 1) return 2;
    if (::read(toChild[0], &c, 1) < 0) return 3;  // wait until told to go
    return 0;
  });
  ASSERT_GT(child, 0);
  char c;
  ASSERT_EQ(::read(toParent[0], &c, 1), 1);
  EXPECT_TRUE(pidFileLocked(pidPath));
  EXPECT_EQ(readPidFile(pidPath), child);
  EXPECT_THROW(PidFile::acquire(pidPath), std::runtime_error);
  ASSERT_EQ(::write(toChild[1], "g", 1), 1);
  const int status = waitStatus(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(pidFileLocked(pidPath));
  EXPECT_FALSE(fs::exists(pidPath)) << "the owner removes its pid file";
  for (int fd : {toParent[0], toParent[1], toChild[0], toChild[1]}) ::close(fd);
}

TEST_F(DaemonTest, StalePidFileIsTakenOver) {
  const std::string pidPath = path("stale.pid");
  spit(pidPath, "999999\n");
  EXPECT_FALSE(pidFileLocked(pidPath));
  PidFile f = PidFile::acquire(pidPath);
  EXPECT_EQ(readPidFile(pidPath), ::getpid());
  EXPECT_EQ(slurp(pidPath), std::to_string(::getpid()) + "\n");
}

TEST_F(DaemonTest, MovedPidFileKeepsTheLock) {
  const std::string pidPath = path("moved.pid");
  std::optional<PidFile> outer;
  {
    PidFile inner = PidFile::acquire(pidPath);
    outer.emplace(std::move(inner));
  }
  EXPECT_TRUE(fs::exists(pidPath));
  EXPECT_TRUE(pidFileLocked(pidPath));
  outer.reset();
  EXPECT_FALSE(fs::exists(pidPath));
}

TEST_F(DaemonTest, ReadPidFile) {
  EXPECT_FALSE(readPidFile(path("missing.pid")));
  spit(path("garbage.pid"), "hello\n");
  EXPECT_FALSE(readPidFile(path("garbage.pid")));
  spit(path("negative.pid"), "-5\n");
  EXPECT_FALSE(readPidFile(path("negative.pid")));
  spit(path("empty.pid"), "");
  EXPECT_FALSE(readPidFile(path("empty.pid")));
  spit(path("ok.pid"), "  4242\n");
  EXPECT_EQ(readPidFile(path("ok.pid")), 4242);
}

TEST_F(DaemonTest, WaitForExitAndProcessAlive) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const pid_t child = forkChild([&] {
    ::close(p[1]);
    char c;
    (void)::read(p[0], &c, 1);  // returns at EOF
    return 0;
  });
  ::close(p[0]);
  EXPECT_TRUE(processAlive(child));
  EXPECT_FALSE(waitForExit(child, 0ms));
  ::close(p[1]);  // let it go
  EXPECT_TRUE(waitForExit(child, 60s));
  EXPECT_EQ(waitStatus(child), 0);
  EXPECT_FALSE(processAlive(child));
  EXPECT_TRUE(waitForExit(child, 0ms));
  EXPECT_FALSE(processAlive(-1));
}

TEST_F(DaemonTest, StopDaemonStopsARunningDaemon) {
  const std::string pidPath = path("d.pid");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = forkChild([&] {
    PidFile f = PidFile::acquire(pidPath);
    if (::write(ready[1], "r", 1) != 1) return 2;
    while (true) ::pause();
  });
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  std::string message;
  EXPECT_TRUE(stopDaemon(pidPath, SIGTERM, 60s, message)) << message;
  EXPECT_EQ(message, "stopped (pid " + std::to_string(child) + ")");
  EXPECT_FALSE(pidFileLocked(pidPath));
  const int status = waitStatus(child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

  EXPECT_FALSE(stopDaemon(pidPath, SIGTERM, 1s, message));
  EXPECT_EQ(message.rfind("not running", 0), 0u) << message;
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(DaemonTest, StopDaemonReportsADaemonThatDoesNotStop) {
  const std::string pidPath = path("stubborn.pid");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = forkChild([&] {
    if (::signal(SIGUSR1, SIG_IGN) == SIG_ERR) return 3;
    PidFile f = PidFile::acquire(pidPath);
    if (::write(ready[1], "r", 1) != 1) return 2;
    while (true) ::pause();
  });
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  std::string message;
  EXPECT_FALSE(stopDaemon(pidPath, SIGUSR1, 1s, message));
  EXPECT_EQ(message, "did not stop within 1 s (pid " + std::to_string(child) + ")");
  EXPECT_TRUE(pidFileLocked(pidPath));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  waitStatus(child);
  ::close(ready[0]);
  ::close(ready[1]);
}

class DaemonizerTest : public DaemonTest {
 protected:
  // Runs a "start" command in a child process: it daemonizes, and the
  // daemon runs `daemonBody`. Returns the start command's exit status;
  // its stderr is in err.txt.
  int runStart(const std::function<void(Daemonizer&)>& daemonBody) {
    const std::string logPath = path("daemon.log");
    const std::string errPath = path("err.txt");
    const pid_t starter = forkChild([&] {
      const int err = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err < 0 || ::dup2(err, STDERR_FILENO) < 0) return 90;
      Daemonizer d = Daemonizer::start(logPath);  // the starter exits inside
      daemonBody(d);
      _exit(0);
    });
    const int status = waitStatus(starter);
    EXPECT_TRUE(WIFEXITED(status)) << status;
    return WEXITSTATUS(status);
  }

  static void say(const std::string& text) {
    ASSERT_EQ(::write(STDOUT_FILENO, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
  }
};

TEST_F(DaemonizerTest, ReadyDaemonRunsDetachedWithItsOutputInTheLog) {
  spit(path("daemon.log"), "old line\n");
  const int rc = runStart([](Daemonizer& d) {
    char c;
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    say("daemon pid=" + std::to_string(::getpid()) + " sid=" + std::to_string(::getsid(0)) +
        " stdin_read=" + std::to_string(n) + "\n");
    d.ready();
    d.failed("ignored: only the first report counts");
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(slurp(path("err.txt")), "");
  const std::string log = slurp(path("daemon.log"));
  EXPECT_EQ(log.rfind("old line\ndaemon pid=", 0), 0u) << log;
  EXPECT_NE(log.find(" stdin_read=0\n"), std::string::npos) << log;
  // A new session: not ours.
  const auto sidAt = log.find("sid=") + 4;
  EXPECT_NE(std::stol(log.substr(sidAt)), static_cast<long>(::getsid(0))) << log;
}

TEST_F(DaemonizerTest, FailedStartupIsReportedByTheStarter) {
  const int rc = runStart([](Daemonizer& d) {
    d.failed("cannot bind port 9989: Address already in use");
    _exit(1);
  });
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(slurp(path("err.txt")), "cannot bind port 9989: Address already in use\n");
}

TEST_F(DaemonizerTest, SilentDeathPointsAtTheLog) {
  const int rc = runStart([](Daemonizer&) {
    say("fatal: something broke\n");
    _exit(3);
  });
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(slurp(path("err.txt")),
            "daemon exited during startup; see " + path("daemon.log") + "\n");
  EXPECT_EQ(slurp(path("daemon.log")), "fatal: something broke\n");
}

TEST_F(DaemonizerTest, UnwritableLogFailsBeforeForking) {
  try {
    Daemonizer::start(path("no/such/dir/daemon.log"));
    FAIL() << "start must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open log file " + path("no/such/dir/daemon.log")),
              std::string::npos)
        << e.what();
  }
}

// Logging is tested here because a daemon's log is where it ends up.
TEST_F(DaemonTest, LoggingAppendsFormattedLinesToAFile) {
  const std::string logPath = path("master.log");
  spit(logPath, "earlier run\n");
  initLogging(logPath, "info");
  spdlog::info("slave {} attached", "linux-1");
  spdlog::debug("not shown at info");
  spdlog::warn("heartbeat timeout");
  shutdownLogging();
  const std::string log = slurp(logPath);
  const std::regex expected(
      "earlier run\n"
      "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} \\[info\\] slave linux-1 attached\n"
      "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} \\[warning\\] heartbeat timeout\n");
  EXPECT_TRUE(std::regex_match(log, expected)) << log;

  initLogging(logPath, "debug");
  spdlog::debug("now shown");
  shutdownLogging();
  EXPECT_NE(slurp(logPath).find("[debug] now shown\n"), std::string::npos);
  spdlog::info("after shutdown: goes to stderr, must not crash");
}

TEST_F(DaemonTest, ALogLineIsOneLineWhateverItQuotes) {
  const std::string logPath = path("master.log");
  initLogging(logPath, "info");
  spdlog::info("reason: {}", "x\n2026-01-01 00:00:00.000 [info] forged\r\x1b[2J C:\\dir \xff");
  shutdownLogging();
  const std::string log = slurp(logPath);
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_NE(log.find("reason: x\\n2026-01-01 00:00:00.000 [info] forged\\r\\x1b[2J C:\\dir \\xff\n"),
            std::string::npos)
      << log;
}

TEST_F(DaemonTest, LoggingRejectsBadLevelsAndFiles) {
  EXPECT_THROW(initLogging("", "verbose"), std::invalid_argument);
  // spdlog creates missing directories, so make the parent a plain file.
  spit(path("plain"), "x");
  try {
    initLogging(path("plain/x.log"));
    shutdownLogging();
    FAIL() << "must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open log file " + path("plain/x.log")),
              std::string::npos)
        << e.what();
  }
}

TEST_F(DaemonizerTest, DaemonLogsToStderrWhichIsTheLogFile) {
  shutdownLogging();  // no flusher thread may be running across the fork
  const int rc = runStart([](Daemonizer& d) {
    initLogging("", "info");
    spdlog::warn("listening on port {}", 9989);
    d.ready();
  });
  EXPECT_EQ(rc, 0);
  EXPECT_NE(slurp(path("daemon.log")).find("[warning] listening on port 9989\n"),
            std::string::npos)
      << slurp(path("daemon.log"));
}

}  // namespace
}  // namespace bb
