#include "common/daemon.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace bb {

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Writes all of `data`, retrying on EINTR and short writes.
bool writeAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// True if `pid` is a zombie (terminated, not yet reaped), per /proc.
bool isZombie(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');  // the command name may contain spaces
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

[[noreturn]] void childFail(int fd, const std::string& message) {
  const std::string bytes = "F" + message;
  (void)writeAll(fd, bytes.data(), bytes.size());  // nothing more we can do if it fails
  _exit(1);
}

}  // namespace

// ---- PidFile ----

PidFile PidFile::acquire(const std::string& path) {
  // The previous owner removes the file before releasing its lock, so we
  // may lock an inode that is no longer at `path`: then open it again.
  for (int attempt = 0; attempt < 10; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(errnoText("cannot open pid file " + path));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        const auto pid = readPidFile(path);
        throw std::runtime_error("already running (pid " +
                                 (pid ? std::to_string(*pid) : std::string("unknown")) +
                                 ", pid file " + path + ")");
      }
      errno = err;
      throw std::runtime_error(errnoText("cannot lock pid file " + path));
    }
    struct stat held {}, named {};
    if (::fstat(fd, &held) != 0) {
      const int err = errno;
      ::close(fd);
      errno = err;
      throw std::runtime_error(errnoText("cannot stat pid file " + path));
    }
    if (::stat(path.c_str(), &named) != 0 || held.st_ino != named.st_ino ||
        held.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    PidFile file(path, fd);  // from here the destructor cleans up
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0)
      throw std::runtime_error(errnoText("cannot truncate pid file " + path));
    if (::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
      throw std::runtime_error(errnoText("cannot write pid file " + path));
    return file;
  }
  throw std::runtime_error("cannot lock pid file " + path + ": it keeps being replaced");
}

PidFile::PidFile(PidFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

PidFile& PidFile::operator=(PidFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

PidFile::~PidFile() { release(); }

void PidFile::release() noexcept {
  if (fd_ < 0) return;
  // Unlink while still holding the lock, so nobody locks the old inode
  // between our close and the unlink. Failures only leave a stale file,
  // which the next acquire() takes over.
  (void)::unlink(path_.c_str());
  (void)::close(fd_);
  fd_ = -1;
}

std::optional<pid_t> readPidFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  long long pid = 0;
  if (!(in >> pid) || pid <= 0 || pid > 0x7fffffff) return std::nullopt;
  return static_cast<pid_t>(pid);
}

bool pidFileLocked(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // no file, no daemon
  bool locked = false;
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    (void)::flock(fd, LOCK_UN);
  } else {
    locked = errno == EWOULDBLOCK;
  }
  ::close(fd);
  return locked;
}

bool processAlive(pid_t pid) {
  if (pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

bool waitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  // A pidfd becomes readable when the process terminates, child or not.
  // glibc 2.36's <sys/pidfd.h> lacks extern "C", so call the kernel directly.
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - SteadyClock::now());
      pollfd p{fd, POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
      if (rc < 0 && errno == EINTR) continue;
      ::close(fd);
      return rc > 0;
    }
  }
  if (errno == ESRCH) return true;
  // No pidfd support: poll for the process instead.
  while (processAlive(pid) && !isZombie(pid)) {
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

bool stopDaemon(const std::string& pidPath, int sig, std::chrono::seconds timeout,
                std::string& message) {
  if (!pidFileLocked(pidPath)) {
    message = "not running (pid file " + pidPath + " is not held)";
    return false;
  }
  const auto pid = readPidFile(pidPath);
  if (!pid) {
    message = "pid file " + pidPath + " is locked but holds no pid";
    return false;
  }
  if (::kill(*pid, sig) != 0) {
    message = errnoText("cannot signal pid " + std::to_string(*pid));
    return false;
  }
  const auto deadline = SteadyClock::now() + timeout;
  bool gone = waitForExit(*pid, timeout);
  // The lock is released as the process exits; wait for the rest of the
  // time in case a forked child of the daemon still holds it briefly.
  while (gone && pidFileLocked(pidPath)) {
    if (SteadyClock::now() >= deadline) {
      gone = false;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  if (!gone) {
    message = "did not stop within " + std::to_string(timeout.count()) + " s (pid " +
              std::to_string(*pid) + ")";
    return false;
  }
  message = "stopped (pid " + std::to_string(*pid) + ")";
  return true;
}

// ---- Daemonizer ----

Daemonizer Daemonizer::start(const std::string& logPath) {
  const int logFd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logFd < 0) throw std::runtime_error(errnoText("cannot open log file " + logPath));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ::close(logFd);
    throw std::runtime_error(errnoText("cannot create the startup pipe"));
  }
  // Nothing buffered may be written twice, once by each process.
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(logFd);
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(errnoText("cannot fork"));
  }

  if (child > 0) {
    // The parent: relay the report, then exit without running destructors
    // that belong to the daemon's state.
    ::close(logFd);
    ::close(fds[1]);
    std::string report;
    char buf[512];
    while (true) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      report.append(buf, static_cast<std::size_t>(n));
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!report.empty() && report[0] == 'R') {
      if (report.size() > 1) {
        std::fprintf(stdout, "%s\n", report.c_str() + 1);
        std::fflush(stdout);
      }
      _exit(0);
    }
    std::string text = "daemon exited during startup; see " + logPath;
    if (!report.empty() && report[0] == 'F')
      text = report.size() > 1 ? report.substr(1) : "daemon failed during startup; see " + logPath;
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
    _exit(1);
  }

  // The intermediate child: a new session, then fork again so the daemon
  // is not a session leader and can never acquire a controlling terminal.
  ::close(fds[0]);
  if (::setsid() < 0) childFail(fds[1], errnoText("setsid"));
  const pid_t daemon = ::fork();
  if (daemon < 0) childFail(fds[1], errnoText("cannot fork the daemon"));
  if (daemon > 0) _exit(0);  // the daemon holds the pipe; the parent waits on it

  const int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devNull < 0) childFail(fds[1], errnoText("cannot open /dev/null"));
  if (::dup2(devNull, STDIN_FILENO) < 0 || ::dup2(logFd, STDOUT_FILENO) < 0 ||
      ::dup2(logFd, STDERR_FILENO) < 0)
    childFail(fds[1], errnoText("cannot redirect stdio to " + logPath));
  if (devNull > STDERR_FILENO) ::close(devNull);
  if (logFd > STDERR_FILENO) ::close(logFd);
  return Daemonizer(fds[1]);
}

Daemonizer::Daemonizer(Daemonizer&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

Daemonizer& Daemonizer::operator=(Daemonizer&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Daemonizer::~Daemonizer() {
  if (fd_ >= 0) ::close(fd_);
}

void Daemonizer::ready(const std::string& message) { report("R" + message); }

void Daemonizer::failed(const std::string& message) { report("F" + message); }

void Daemonizer::report(const std::string& bytes) {
  if (fd_ < 0) return;
  // If the parent is gone there is nobody to tell; SIGPIPE is the caller's
  // choice (daemons ignore it), and EPIPE is harmless here.
  (void)writeAll(fd_, bytes.data(), bytes.size());
  ::close(fd_);
  fd_ = -1;
}

void keepFreedHeap() {
  constexpr int kTrimThreshold = 32 << 20;
  constexpr int kTopPad = 4 << 20;
  // mallopt returns 0 when a setting is refused; there is nothing better to
  // do than keep the allocator's defaults (see the header).
  (void)::mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
  (void)::mallopt(M_TOP_PAD, kTopPad);
}

}  // namespace bb
