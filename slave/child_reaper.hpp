#pragma once
// Reaps every child of the slave. On SIGCHLD it loops waitpid(-1, WNOHANG)
// and hands each status to the watcher registered for that pid; children
// without a watcher (orphaned grandchildren reparented to us because the
// slave is a child subreaper) are reaped silently.
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace bb {

class ChildReaper {
 public:
  using ExitHandler = std::function<void(int waitStatus)>;

  // Starts listening for SIGCHLD on io (one reaper per process).
  explicit ChildReaper(boost::asio::io_context& io);
  ~ChildReaper();
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // Calls `onExit` (on the io thread) once `pid` has been reaped. Register
  // right after fork(), before returning to the event loop.
  void watch(pid_t pid, ExitHandler onExit);
  // Drops the watcher; the child will be reaped silently.
  void forget(pid_t pid);
  // Reaps whatever has exited now (also run on every SIGCHLD).
  void reapNow();

  // Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER) so
  // that orphaned descendants of commands are reparented to it. Returns
  // false and sets `error` on failure.
  static bool becomeSubreaper(std::string& error);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bb
