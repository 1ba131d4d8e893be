#pragma once
// Starting a program the one way this project does it (the slave's
// commands, the master's pollers, the client's try, the tests' harness):
// posix_spawn, not fork(). glibc's posix_spawn is vfork-like, so the
// caller's page tables are not copied and it takes no copy-on-write
// faults afterwards (docs/performance.md, "The slave starts commands with
// posix_spawn"). The program gets its own process group (so it and
// everything it starts can be signalled at once), no blocked signals,
// SIGPIPE at its default, the three descriptors given here and no other
// descriptor of the caller's (Asio opens sockets without O_CLOEXEC).
#include <sys/types.h>

#include <string>

namespace bb {

struct SpawnSpec {
  const char* program = nullptr;  // a path; with searchPath, a name looked up in PATH
  bool searchPath = false;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int stdinFd = -1;  // -1: /dev/null
  int stdoutFd = -1, stderrFd = -1;
  std::string cwd;  // "" = the caller's
};

// Returns the child's pid, or -1 with `error` set to the errno value
// posix_spawn reported (the child's chdir or exec failed, or the set-up
// could not be made). glibc has reaped a child that failed.
pid_t spawnProcess(const SpawnSpec& spec, int& error);

}  // namespace bb
