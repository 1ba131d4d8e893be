#pragma once
// Finding and signalling a command's whole process tree: its process group
// plus every descendant found through /proc parent links (which catches
// children that left the group with setsid/setpgid).
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace bb {

// Every live descendant of `root` (not including root), from /proc/*/stat.
std::vector<pid_t> descendantsOf(pid_t root);

// The parent pid of `pid` from /proc/PID/stat; -1 if it is gone.
pid_t parentOf(pid_t pid);

// True if `pid` exists and is not a zombie.
bool isAlive(pid_t pid);

// Sends `sig` to the process group `pgid` and to each pid in `pids`.
// Processes that are already gone are not an error.
void signalTree(pid_t pgid, const std::vector<pid_t>& pids, int sig);

// Calls `done` (on io, never from the constructor) once every pid in
// `pids` has exited, a zombie counting as exited. Event-driven through
// pidfd_open(2): a signal sent with kill() is delivered asynchronously, so
// "killed" only means "dead" once this fires. Destroying it cancels.
class ExitWatch {
 public:
  ExitWatch(boost::asio::io_context& io, const std::vector<pid_t>& pids, std::function<void()> done);
  ~ExitWatch();
  ExitWatch(const ExitWatch&) = delete;
  ExitWatch& operator=(const ExitWatch&) = delete;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// "123 124 130"
std::string formatPids(const std::vector<pid_t>& pids);

}  // namespace bb
