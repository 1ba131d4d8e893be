#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "client/cli_context.hpp"
#include "client/master_client.hpp"

namespace bb::client {

namespace {
volatile std::sig_atomic_t gInterrupted = 0;
extern "C" void onSigint(int) { gInterrupted = 1; }

// Asks on the controlling terminal with echo off; nullopt without one, or
// when stdin is not a terminal (a script, a test: nobody to answer).
std::optional<std::string> askPassword(const std::string& prompt) {
  if (!::isatty(STDIN_FILENO)) return std::nullopt;
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  termios saved{};
  const bool isTerm = ::tcgetattr(fd, &saved) == 0;
  if (isTerm) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    (void)::tcsetattr(fd, TCSAFLUSH, &quiet);  // if it fails, the password echoes
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  std::string line;
  char c = 0;
  bool got = false;
  while (true) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got = true;
    if (c == '\n') break;
    line.push_back(c);
  }
  if (isTerm) (void)::tcsetattr(fd, TCSAFLUSH, &saved);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  if (!got) return std::nullopt;
  return line;
}

}  // namespace

CliContext systemContext() {
  CliContext ctx;
  ctx.getenv = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  ctx.in = &std::cin;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  // Verbs that wait for events stop cleanly on Ctrl-C: the handler is
  // installed when a verb first asks, so every other verb keeps the
  // default (die at once).
  ctx.interrupted = [] {
    static const bool installed = [] {
      struct sigaction sa {};
      sa.sa_handler = onSigint;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGINT, &sa, nullptr);
      return true;
    }();
    (void)installed;
    return gInterrupted != 0;
  };
  ctx.readPassword = askPassword;
  ctx.connect = [](const MasterAddress& address, const Credentials& creds,
                   const MasterTrust& trust) {
    MasterClientOptions opts;
    opts.trust = trust;
    auto client = std::make_unique<MasterClient>(address, creds, opts);
    client->connect();  // fail early with exit 3, before any output
    return std::unique_ptr<RequestSender>(std::move(client));
  };
  return ctx;
}

}  // namespace bb::client
