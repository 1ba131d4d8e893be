#pragma once
// Daemon plumbing shared by buildmaster and buildslave: a locked pid file,
// stopping a running daemon, and forking into the background with a
// readiness report, so `start` exits 0 only once the daemon really runs
// (config loaded, ports bound) and otherwise prints why it did not.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace bb {

// A pid file held under flock(LOCK_EX) for the life of the daemon. The lock,
// not the file's existence, says "running": a file left by a crash is
// simply taken over.
class PidFile {
 public:
  // Opens (creating) `path`, locks it and writes our pid. Throws
  // std::runtime_error "already running (pid N, pid file PATH)" if another
  // process holds it, or a message naming the failed call otherwise.
  static PidFile acquire(const std::string& path);

  PidFile(PidFile&& other) noexcept;
  PidFile& operator=(PidFile&& other) noexcept;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  // Removes the file, then releases the lock.
  ~PidFile();

  const std::string& path() const { return path_; }

 private:
  PidFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void release() noexcept;
  std::string path_;
  int fd_ = -1;
};

// The pid written in `path`; nullopt if the file is missing or holds no pid.
std::optional<pid_t> readPidFile(const std::string& path);

// True if some process holds the lock on `path` (the daemon is running).
bool pidFileLocked(const std::string& path);

// True if `pid` exists (a zombie counts as alive; EPERM counts as alive).
bool processAlive(pid_t pid);

// Waits up to `timeout` for `pid` to terminate. Does not reap a child: a
// zombie counts as terminated. Returns false on timeout.
bool waitForExit(pid_t pid, std::chrono::milliseconds timeout);

// Sends `sig` to the daemon of pidPath and waits up to `timeout` for it to
// exit (pid file lock released). Returns false with `message` set on
// failure ("not running (...)", "did not stop within N s", ...); on
// success `message` says what was stopped.
bool stopDaemon(const std::string& pidPath, int sig, std::chrono::seconds timeout,
                std::string& message);

// Keeps freed heap for reuse instead of handing it back to the kernel after
// every transaction: SQLite's page cache grows and shrinks with each one,
// and glibc's default 128 KiB trim threshold turned that into a brk() pair
// per change (20 % of the master's CPU in bench/scheduler_bench; p50 per
// change 412 -> 230 us). Up to 32 MiB of free heap may stay mapped. Call
// once, first thing in main(). Best effort: an allocator that ignores
// mallopt (ASan's) keeps its own policy, which is harmless.
void keepFreedHeap();

// Forks into the background with a readiness report through a pipe.
class Daemonizer {
 public:
  // Forks. In the parent: waits for the daemon's report and exits the
  // process: 0 if ready() was called (after printing its message, if any,
  // on stdout), 1 after printing the failure message
  // (or "daemon exited during startup; see LOGPATH" if it died silently)
  // to stderr. In the daemon (a grandchild, after setsid): stdin is
  // /dev/null, stdout and stderr append to logPath; returns. Throws
  // std::runtime_error, before forking, if logPath cannot be opened.
  static Daemonizer start(const std::string& logPath);

  Daemonizer(Daemonizer&& other) noexcept;
  Daemonizer& operator=(Daemonizer&& other) noexcept;
  Daemonizer(const Daemonizer&) = delete;
  Daemonizer& operator=(const Daemonizer&) = delete;
  // Closing without a report makes the parent say the daemon exited.
  ~Daemonizer();

  // Startup succeeded: the parent prints `message` (if not empty) and
  // exits 0. Only the first report counts.
  void ready(const std::string& message = "");
  // Startup failed: the parent prints `message` and exits 1.
  void failed(const std::string& message);

 private:
  explicit Daemonizer(int fd) : fd_(fd) {}
  void report(const std::string& bytes);
  int fd_ = -1;
};

}  // namespace bb
