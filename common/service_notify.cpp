#include "common/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

namespace bb {

namespace {

// A value for STATUS= must be one line.
std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// sd_notify(3)'s protocol, without libsystemd (six shared libraries every
// buildbot command would load for nothing): one datagram to the AF_UNIX
// socket NOTIFY_SOCKET names, a path or, after '@', an abstract name. No
// variable: not run by a service manager, nothing to say. The variable
// stays set: the same process sends several messages over its life.
void send(const std::string& state) {
  const char* where = std::getenv("NOTIFY_SOCKET");
  if (where == nullptr || *where == '\0') return;
  const std::string name = where;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((name[0] != '/' && name[0] != '@') || name.size() >= sizeof addr.sun_path) {
    spdlog::warn("cannot notify the service manager: NOTIFY_SOCKET '{}' is not a socket path or @name", name);
    return;
  }
  std::memcpy(addr.sun_path, name.data(), name.size());
  if (name[0] == '@') addr.sun_path[0] = '\0';  // abstract
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    spdlog::warn("cannot notify the service manager: socket: {}", std::strerror(errno));
    return;
  }
  if (::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len) < 0)
    spdlog::warn("cannot notify the service manager at {}: {}", name, std::strerror(errno));
  ::close(fd);
}

}  // namespace

void notifyReady(const std::string& status) {
  send("READY=1\nMAINPID=" + std::to_string(::getpid()) + "\nSTATUS=" + oneLine(status));
}

void notifyReloading() { send("RELOADING=1\nSTATUS=reconfig in progress"); }

void notifyReloaded(const std::string& status) { send("READY=1\nSTATUS=" + oneLine(status)); }

void notifyStopping(const std::string& status) { send("STOPPING=1\nSTATUS=" + oneLine(status)); }

}  // namespace bb
