#include "common/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/spawn.hpp"

extern char** environ;

namespace bb {

SubprocessResult runSubprocess(const std::vector<std::string>& argv, const std::string& cwd,
                               std::chrono::seconds timeout, const std::string* input) {
  SubprocessResult r;
  if (argv.empty()) {
    r.err = "no program given";
    return r;
  }
  int outp[2], errp[2];
  if (pipe2(outp, O_CLOEXEC) != 0) {
    r.err = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  if (pipe2(errp, O_CLOEXEC) != 0) {
    r.err = std::string("pipe: ") + std::strerror(errno);
    close(outp[0]);
    close(outp[1]);
    return r;
  }
  int inp[2] = {-1, -1};
  if (input && pipe2(inp, O_CLOEXEC) != 0) {
    r.err = std::string("pipe: ") + std::strerror(errno);
    for (int fd : {outp[0], outp[1], errp[0], errp[1]}) close(fd);
    return r;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // common/spawn.hpp: posix_spawnp, and only the descriptors named here
  // reach the program: none of the master's sockets, so a `git fetch`
  // that outlives its master does not hold the master's port.
  SpawnSpec how;
  how.program = args[0];
  how.searchPath = true;
  how.argv = args.data();
  how.envp = environ;
  how.stdinFd = input ? inp[0] : -1;
  how.stdoutFd = outp[1];
  how.stderrFd = errp[1];
  how.cwd = cwd;
  int rc = 0;
  const pid_t pid = spawnProcess(how, rc);
  if (rc != 0) {
    // glibc does not say which step failed: a cwd that cannot be entered
    // is told from a program that cannot run by checking the cwd.
    struct stat st {};
    const bool badCwd = !cwd.empty() && (::stat(cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode));
    r.err = badCwd ? "cannot enter " + cwd + ": " + std::strerror(rc)
                   : std::string("cannot run ") + args[0] + ": " + std::strerror(rc);
    for (int fd : {outp[0], outp[1], errp[0], errp[1], inp[0], inp[1]})
      if (fd >= 0) close(fd);
    return r;
  }
  close(outp[1]);
  close(errp[1]);
  std::size_t written = 0;
  if (input) {
    close(inp[0]);
    fcntl(inp[1], F_SETFL, O_NONBLOCK);
    if (input->empty()) {
      close(inp[1]);
      inp[1] = -1;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[3] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}, {inp[1], POLLOUT, 0}};
  int openFds = 2;
  char buf[65536];
  while (openFds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      r.timedOut = true;
      kill(-pid, SIGKILL);
      break;
    }
    const int n = poll(fds, 3, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t put = write(fds[2].fd, input->data() + written, input->size() - written);
      if (put > 0) written += static_cast<std::size_t>(put);
      if ((put < 0 && errno != EAGAIN && errno != EINTR) || written == input->size()) {
        close(fds[2].fd);  // all written, or the child stopped reading
        fds[2].fd = -1;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --openFds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  if (input && written < input->size() && r.err.empty()) r.err = "it read only part of its input";
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!r.timedOut && WIFEXITED(status)) r.exitCode = WEXITSTATUS(status);
  return r;
}

}  // namespace bb
