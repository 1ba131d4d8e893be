#include "common/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

namespace bb {

pid_t spawnProcess(const SpawnSpec& spec, int& error) {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  error = posix_spawnattr_init(&attr);
  if (error != 0) return -1;
  error = posix_spawn_file_actions_init(&actions);
  if (error != 0) {
    posix_spawnattr_destroy(&attr);
    return -1;
  }
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  int rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &pipe);
  if (rc == 0)
    rc = spec.stdinFd >= 0 ? posix_spawn_file_actions_adddup2(&actions, spec.stdinFd, 0)
                           : posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, spec.stdoutFd, 1);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, spec.stderrFd, 2);
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (rc == 0 && !spec.cwd.empty()) rc = posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  pid_t pid = -1;
  if (rc == 0)
    rc = spec.searchPath ? posix_spawnp(&pid, spec.program, &actions, &attr, spec.argv, spec.envp)
                         : posix_spawn(&pid, spec.program, &actions, &attr, spec.argv, spec.envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  error = rc;
  return rc == 0 ? pid : -1;
}

}  // namespace bb
