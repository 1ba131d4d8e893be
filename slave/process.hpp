#pragma once
// A child process of the slave: spawned in its own process group with
// stdin on /dev/null and stdout/stderr on separate pipes, read
// asynchronously only while the owner grants an output allowance (credit).
// Asio stays in process.cpp and child_reaper.cpp.
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/message.hpp"

namespace boost::asio {
class io_context;
}

namespace bb {

class ChildReaper;

// How a process ended: an exit code or the signal that killed it.
struct ExitStatus {
  int exitCode = -1;  // -1 when killed by a signal
  int signal = 0;     // 0 when it exited normally
  bool exited() const { return signal == 0; }
  // "exit code N" or "killed by signal N (SIGNAME)"
  std::string describe() const;
  // Decodes a waitpid() status.
  static ExitStatus fromWaitStatus(int status);
};

struct ProcessSpec {
  std::vector<std::string> argv;   // argv[0] is looked up in the env's PATH
  std::string workdir;             // absolute; created (mkdir -p) if missing
  std::map<std::string, std::string> env;  // the complete environment
};

class Process {
 public:
  struct Handlers {
    // How many output bytes may be read now (0 parks both pipes until
    // resumeReading()).
    std::function<std::size_t()> allowance;
    // A chunk read from stdout or stderr (at most the allowance).
    std::function<void(Stream, const char* data, std::size_t size)> onOutput;
    // The main child has exited and both pipes reached EOF.
    std::function<void(const ExitStatus&)> onFinished;
  };

  // Spawns spec.argv. Returns nullptr and sets `error` if the workdir
  // cannot be created, the program is not found, or exec fails.
  static std::unique_ptr<Process> spawn(boost::asio::io_context& io, ChildReaper& reaper,
                                        const ProcessSpec& spec, Handlers handlers,
                                        std::string& error);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const;  // also the process group id
  // Re-arms pipes parked for lack of allowance.
  void resumeReading();
  // Stops waiting for pipe EOF: finishes as soon as the main child has
  // exited (used after the tree was SIGKILLed; unread output is dropped).
  void abandonPipes();
  bool exited() const;
  bool finished() const;

  struct Impl;
  explicit Process(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

// Resolves `program` against the PATH in `env` (as execvp would); a name
// containing '/' is returned unchanged. Empty result: not found.
std::string findProgram(const std::string& program,
                        const std::map<std::string, std::string>& env);

// The slave's own environment as a map.
std::map<std::string, std::string> currentEnvironment();

// Creates `dir` and its parents; sets `error` and returns false on failure.
bool makeDirs(const std::string& dir, std::string& error);

}  // namespace bb
