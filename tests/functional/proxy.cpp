#include "tests/functional/proxy.hpp"

#include "tests/functional/harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bb::test {

Proxy::Proxy(int target) : target_(target) {
  lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd_ < 0) throw std::runtime_error(std::string("proxy: socket: ") + std::strerror(errno));
  int one = 1;
  if (setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    const std::string e = std::strerror(errno);
    close(lfd_);
    throw std::runtime_error("proxy: setsockopt SO_REUSEADDR: " + e);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(lfd_, 8) != 0 ||
      getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const std::string e = std::strerror(errno);
    close(lfd_);
    throw std::runtime_error("proxy: cannot listen on 127.0.0.1: " + e);
  }
  port_ = ntohs(a.sin_port);
  registerMasterAlias(port_, target_);  // peers through us trust the master behind us
  thread_ = std::thread([this] { loop(); });
}

Proxy::~Proxy() {
  stop_ = true;
  thread_.join();
  for (int fd : fds_) close(fd);
  close(lfd_);
}

void Proxy::loop() {
  // Bounded: runs until the test ends (stop_), polling every 50 ms.
  while (!stop_) {
    std::vector<pollfd> p{{lfd_, POLLIN, 0}};
    for (int fd : fds_) p.push_back({fd, static_cast<short>(frozen_ ? 0 : POLLIN), 0});
    if (poll(p.data(), p.size(), 50) <= 0) continue;
    if (p[0].revents & POLLIN) {
      int c = accept(lfd_, nullptr, nullptr);
      int s = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(target_));
      if (c >= 0 && s >= 0 && connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        fds_.push_back(c);
        fds_.push_back(s);
      } else {
        if (c >= 0) close(c);
        if (s >= 0) close(s);
      }
      continue;
    }
    for (std::size_t i = 1; i < p.size(); ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP))) continue;
      const std::size_t k = i - 1, peer = k ^ 1;
      char buf[65536];
      ssize_t n = read(fds_[k], buf, sizeof buf);
      if (n > 0) {
        // A short write to loopback only happens when the peer is gone;
        // its own read then reports the close.
        if (write(fds_[peer], buf, static_cast<std::size_t>(n)) != n) {
        }
      } else {
        shutdown(fds_[peer], SHUT_WR);
      }
    }
  }
}

}  // namespace bb::test
