#include "slave/process_tree.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace bb {

namespace {

// Reads the state and ppid from /proc/PID/stat. The command name is in
// parentheses and may contain spaces or ')', so parse after the last ')'.
bool readStat(pid_t pid, char& state, pid_t& ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  long parent = -1;
  if (!(rest >> state >> parent)) return false;
  ppid = static_cast<pid_t>(parent);
  return true;
}

}  // namespace

pid_t parentOf(pid_t pid) {
  char state = 0;
  pid_t ppid = -1;
  return readStat(pid, state, ppid) ? ppid : -1;
}

bool isAlive(pid_t pid) {
  char state = 0;
  pid_t ppid = -1;
  return readStat(pid, state, ppid) && state != 'Z' && state != 'X';
}

std::vector<pid_t> descendantsOf(pid_t root) {
  std::multimap<pid_t, pid_t> children;  // ppid -> pid
  DIR* dir = ::opendir("/proc");
  if (!dir) {
    spdlog::warn("cannot list /proc: {}", std::strerror(errno));
    return {};
  }
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    char state = 0;
    pid_t ppid = -1;
    if (readStat(static_cast<pid_t>(pid), state, ppid) && state != 'Z')
      children.emplace(ppid, static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  std::vector<pid_t> result;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto [lo, hi] = children.equal_range(p);
    for (auto it = lo; it != hi; ++it) {
      if (std::find(result.begin(), result.end(), it->second) != result.end()) continue;
      result.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  std::sort(result.begin(), result.end());
  return result;
}

void signalTree(pid_t pgid, const std::vector<pid_t>& pids, int sig) {
  if (pgid > 0 && ::kill(-pgid, sig) != 0 && errno != ESRCH)
    spdlog::warn("kill(-{}, {}) failed: {}", pgid, sig, std::strerror(errno));
  for (pid_t p : pids) {
    if (p > 0 && ::kill(p, sig) != 0 && errno != ESRCH)
      spdlog::warn("kill({}, {}) failed: {}", p, sig, std::strerror(errno));
  }
}

struct ExitWatch::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(boost::asio::io_context& io) : io(io) {}
  boost::asio::io_context& io;
  std::vector<std::unique_ptr<boost::asio::posix::stream_descriptor>> fds;
  std::size_t remaining = 0;
  std::function<void()> done;
  bool cancelled = false;

  void one() {
    if (--remaining == 0 && !cancelled) {
      cancelled = true;
      auto fn = std::move(done);
      fn();
    }
  }
};

ExitWatch::ExitWatch(boost::asio::io_context& io, const std::vector<pid_t>& pids,
                     std::function<void()> done)
    : impl_(std::make_shared<Impl>(io)) {
  impl_->done = std::move(done);
  impl_->remaining = 1;  // released by the post below, so `done` never runs inline
  for (pid_t pid : pids) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {
      if (errno != ESRCH)
        spdlog::warn("pidfd_open({}) failed: {}; not waiting for it", pid, std::strerror(errno));
      continue;  // already gone (or cannot be watched)
    }
    auto sd = std::make_unique<boost::asio::posix::stream_descriptor>(io, fd);
    ++impl_->remaining;
    sd->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [self = impl_](const boost::system::error_code& ec) {
                     if (self->cancelled || ec == boost::asio::error::operation_aborted) return;
                     self->one();
                   });
    impl_->fds.push_back(std::move(sd));
  }
  boost::asio::post(io, [self = impl_] {
    if (!self->cancelled) self->one();
  });
}

ExitWatch::~ExitWatch() {
  impl_->cancelled = true;
  for (auto& sd : impl_->fds) {
    boost::system::error_code ec;
    sd->close(ec);
  }
}

std::string formatPids(const std::vector<pid_t>& pids) {
  std::string s;
  for (pid_t p : pids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(p);
  }
  return s;
}

}  // namespace bb
