#include "slave/process.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "common/spawn.hpp"
#include "slave/child_reaper.hpp"

extern char** environ;

namespace bb {

namespace {

constexpr std::size_t kMaxChunk = 64 * 1024;
constexpr int kStdoutPipeBytes = 256 * 1024;

std::string errnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Closes an fd, keeping errno untouched for the caller's message.
void closeFd(int& fd) {
  if (fd >= 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    fd = -1;
  }
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exited()) return "exit code " + std::to_string(exitCode);
  const char* name = ::sigabbrev_np(signal);
  return "killed by signal " + std::to_string(signal) +
         (name ? std::string(" (SIG") + name + ")" : std::string());
}

ExitStatus ExitStatus::fromWaitStatus(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exitCode = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

std::map<std::string, std::string> currentEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string findProgram(const std::string& program, const std::map<std::string, std::string>& env) {
  if (program.empty()) return {};
  if (program.find('/') != std::string::npos) return program;
  auto it = env.find("PATH");
  std::string path = it != env.end() ? it->second : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  for (;;) {
    std::size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (end == std::string::npos) return {};
    start = end + 1;
  }
}

bool makeDirs(const std::string& dir, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create directory '" + dir + "': " + ec.message();
    return false;
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    error = "'" + dir + "' exists and is not a directory";
    return false;
  }
  return true;
}

struct Process::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& io, ChildReaper& reaper) : io(io), reaper(reaper), out(io), err(io) {}

  boost::asio::io_context& io;
  ChildReaper& reaper;
  pid_t pid = -1;
  Handlers handlers;
  boost::asio::posix::stream_descriptor out;
  boost::asio::posix::stream_descriptor err;
  std::array<bool, 2> eof{false, false};
  std::array<bool, 2> parked{false, false};
  std::array<bool, 2> waiting{false, false};
  std::optional<ExitStatus> status;
  bool abandoned = false;
  bool finished = false;
  bool closed = false;  // the owning Process is gone
  std::vector<char> buffer = std::vector<char>(kMaxChunk);

  boost::asio::posix::stream_descriptor& pipe(int i) { return i == 0 ? out : err; }

  void doWait(int i) {
    if (closed || eof[i] || waiting[i]) return;
    waiting[i] = true;
    pipe(i).async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [self = shared_from_this(), i](const boost::system::error_code& ec) {
                         self->waiting[i] = false;
                         if (self->closed || ec == boost::asio::error::operation_aborted) return;
                         if (ec) {
                           spdlog::warn("process {}: waiting on {} failed: {}", self->pid,
                                        i == 0 ? "stdout" : "stderr", ec.message());
                           self->markEof(i);
                           return;
                         }
                         self->onReadable(i);
                       });
  }

  void onReadable(int i) {
    if (eof[i]) return;
    std::size_t allowed = handlers.allowance ? handlers.allowance() : kMaxChunk;
    if (allowed == 0) {
      parked[i] = true;  // the child blocks on a full pipe until credit arrives
      return;
    }
    std::size_t n = std::min(allowed, kMaxChunk);
    ssize_t got = ::read(pipe(i).native_handle(), buffer.data(), n);
    if (got > 0) {
      auto keep = shared_from_this();
      handlers.onOutput(i == 0 ? Stream::Stdout : Stream::Stderr, buffer.data(),
                        static_cast<std::size_t>(got));
      if (!closed) doWait(i);
      return;
    }
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      doWait(i);
      return;
    }
    if (got < 0) spdlog::warn("process {}: {}", pid, errnoText("reading output pipe failed"));
    markEof(i);
  }

  void markEof(int i) {
    eof[i] = true;
    parked[i] = false;
    boost::system::error_code ec;
    pipe(i).close(ec);
    checkFinished();
  }

  void checkFinished() {
    if (finished || closed || !status) return;
    if (!abandoned && !(eof[0] && eof[1])) return;
    finished = true;
    boost::system::error_code ec;
    out.close(ec);
    err.close(ec);
    auto keep = shared_from_this();
    if (handlers.onFinished) handlers.onFinished(*status);
  }
};

std::unique_ptr<Process> Process::spawn(boost::asio::io_context& io, ChildReaper& reaper,
                                        const ProcessSpec& spec, Handlers handlers,
                                        std::string& error) {
  if (spec.argv.empty()) {
    error = "empty command";
    return nullptr;
  }
  if (!makeDirs(spec.workdir, error)) return nullptr;
  std::string program = findProgram(spec.argv[0], spec.env);
  if (program.empty()) {
    error = "program '" + spec.argv[0] + "' not found in PATH";
    return nullptr;
  }

  // Everything the child needs is prepared before the spawn.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> envStrings;
  for (const auto& [k, v] : spec.env) envStrings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : envStrings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int outPipe[2] = {-1, -1}, errPipe[2] = {-1, -1};
  auto closeAll = [&] {
    closeFd(outPipe[0]), closeFd(outPipe[1]), closeFd(errPipe[0]), closeFd(errPipe[1]);
  };
  if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) {
    error = errnoText("pipe2 failed");
    closeAll();
    return nullptr;
  }
  // A 256 KiB stdout pipe (Linux's default is 64 KiB) lets a fast child
  // run ahead while the slave waits for the master's credit, instead of
  // both stopping in turn: 5-6 % more throughput on log_bench. Best effort
  // (a user past /proc/sys/fs/pipe-user-pages-soft keeps 64 KiB); stderr
  // keeps the default, as it rarely carries the bulk of the output.
  ::fcntl(outPipe[0], F_SETPIPE_SZ, kStdoutPipeBytes);

  // common/spawn.hpp: posix_spawn (1.6 ms per command on this machine
  // instead of fork's 4.4; docs/performance.md), its own process group,
  // no blocked signals, SIGPIPE at its default, /dev/null on stdin, the
  // pipes on stdout and stderr, no other descriptor of the slave's.
  SpawnSpec how;
  how.program = program.c_str();
  how.argv = argv.data();
  how.envp = envp.data();
  how.stdoutFd = outPipe[1];
  how.stderrFd = errPipe[1];
  how.cwd = spec.workdir;
  int rc = 0;
  const pid_t pid = spawnProcess(how, rc);
  if (pid < 0) {
    // Which step failed is not reported: a workdir that cannot be entered
    // is told from a program that cannot run by checking the workdir.
    struct stat st {};
    const bool badWorkdir = ::stat(spec.workdir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
                            ::access(spec.workdir.c_str(), X_OK) != 0;
    error = (badWorkdir ? "cannot enter workdir '" + spec.workdir + "'"
                        : "cannot execute '" + program + "'") +
            ": " + std::strerror(rc);
    closeAll();
    return nullptr;
  }

  // Also set the group here, so it exists before any kill we send.
  if (::setpgid(pid, pid) != 0 && errno != EACCES && errno != ESRCH)
    spdlog::warn("setpgid({}) failed: {}", pid, std::strerror(errno));
  auto impl = std::make_shared<Impl>(io, reaper);
  impl->pid = pid;
  impl->handlers = std::move(handlers);
  std::weak_ptr<Impl> weak = impl;
  reaper.watch(pid, [weak](int waitStatus) {
    auto self = weak.lock();
    if (!self || self->closed) return;
    self->status = ExitStatus::fromWaitStatus(waitStatus);
    self->checkFinished();
  });
  closeFd(outPipe[1]);
  closeFd(errPipe[1]);

  for (int fd : {outPipe[0], errPipe[0]}) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
      spdlog::warn("cannot make pipe {} non-blocking: {}", fd, std::strerror(errno));
  }
  impl->out.assign(outPipe[0]);
  impl->err.assign(errPipe[0]);
  impl->doWait(0);
  impl->doWait(1);
  return std::make_unique<Process>(impl);
}

Process::Process(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Process::~Process() {
  impl_->closed = true;
  if (!impl_->status) impl_->reaper.forget(impl_->pid);
  boost::system::error_code ec;
  impl_->out.close(ec);
  impl_->err.close(ec);
}

pid_t Process::pid() const { return impl_->pid; }

void Process::resumeReading() {
  for (int i = 0; i < 2; ++i) {
    if (impl_->parked[i]) {
      impl_->parked[i] = false;
      impl_->doWait(i);
    }
  }
}

void Process::abandonPipes() {
  impl_->abandoned = true;
  // Asynchronous, so the caller never sees onFinished re-enter it.
  boost::asio::post(impl_->io, [self = impl_] { self->checkFinished(); });
}

bool Process::exited() const { return impl_->status.has_value(); }
bool Process::finished() const { return impl_->finished; }

}  // namespace bb
