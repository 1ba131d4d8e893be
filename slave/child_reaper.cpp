#include "slave/child_reaper.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

namespace bb {

struct ChildReaper::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(boost::asio::io_context& io) : signals(io) {}
  boost::asio::signal_set signals;
  std::unordered_map<pid_t, ExitHandler> watchers;
  bool stopped = false;

  void doWait() {
    signals.async_wait([weak = weak_from_this()](const boost::system::error_code& ec, int) {
      auto self = weak.lock();
      if (!self || ec || self->stopped) return;  // cancelled: the reaper is gone
      self->reap();
      self->doWait();
    });
  }

  void reap() {
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid == 0) return;  // children remain, none has exited
      if (pid < 0) {
        if (errno == EINTR) continue;
        if (errno != ECHILD) spdlog::warn("waitpid failed: {}", std::strerror(errno));
        return;
      }
      auto it = watchers.find(pid);
      if (it == watchers.end()) {
        spdlog::debug("reaped orphaned process {}", pid);
        continue;
      }
      ExitHandler handler = std::move(it->second);
      watchers.erase(it);
      // A handler may destroy its owner; it must not touch `this` after.
      handler(status);
    }
  }
};

ChildReaper::ChildReaper(boost::asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {
  boost::system::error_code ec;
  impl_->signals.add(SIGCHLD, ec);
  if (ec) throw std::runtime_error("cannot watch SIGCHLD: " + ec.message());
  impl_->doWait();
}

ChildReaper::~ChildReaper() {
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->signals.cancel(ec);
}

void ChildReaper::watch(pid_t pid, ExitHandler onExit) { impl_->watchers[pid] = std::move(onExit); }

void ChildReaper::forget(pid_t pid) { impl_->watchers.erase(pid); }

void ChildReaper::reapNow() {
  auto keep = impl_;
  keep->reap();
}

bool ChildReaper::becomeSubreaper(std::string& error) {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    error = std::string("prctl(PR_SET_CHILD_SUBREAPER) failed: ") + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace bb
