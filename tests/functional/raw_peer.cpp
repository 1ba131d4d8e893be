#include "tests/functional/raw_peer.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/login.hpp"

namespace bb::test {

using Clock = std::chrono::steady_clock;

RawPeer::RawPeer(int port) : decoder_(64u << 20) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + why);
  }
}

RawPeer::~RawPeer() {
  if (fd_ >= 0) ::close(fd_);
}

Json RawPeer::login(const std::string& role, const std::string& name, const std::string& password) {
  ClientLogin login(role, name, password);
  send(MsgType::Hello, login.hello().body);
  while (true) {
    auto m = next();
    if (!m) throw std::runtime_error("login as " + name + ": the master closed the connection");
    auto step = login.onMessage(*m);
    switch (step.kind) {
      case ClientLogin::Step::Wait: continue;
      case ClientLogin::Step::Send: send(step.reply.type, step.reply.body); continue;
      case ClientLogin::Step::Done: return step.welcome;
      case ClientLogin::Step::Failed: throw std::runtime_error("login as " + name + ": " + step.error);
    }
  }
}

Json RawPeer::slaveInfo() {
  return Json{{"host", "rawpeer"}, {"os", "test"}, {"cpus", 1}, {"version", "raw"}, {"basedir", "/nonexistent"}};
}

void RawPeer::send(MsgType type, const Json& body) {
  sendFrame(static_cast<std::uint16_t>(type), Json::to_msgpack(body));
}

void RawPeer::sendFrame(std::uint16_t type, const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out;
  encodeFrame(type, payload.data(), payload.size(), out);
  sendRaw(out);
}

void RawPeer::sendRaw(const std::vector<std::uint8_t>& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the master closed; reading tells the test
    done += static_cast<std::size_t>(n);
  }
}

bool RawPeer::fill(Clock::time_point deadline) {
  if (closed_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  const int r = ::poll(&p, 1, static_cast<int>(left.count()));
  if (r <= 0) return false;
  std::uint8_t buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  decoder_.feed(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<Message> RawPeer::next(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Frame f;
  while (true) {
    while (decoder_.next(f) == FrameDecoder::Status::Ready) {
      Message m = decodeMessage(f.type, f.payload);
      if (m.type == MsgType::Heartbeat) continue;
      if (m.type == MsgType::Ping) {
        send(MsgType::Pong, Json{{"id", m.body.value("id", 0)}});
        continue;
      }
      if (m.type == MsgType::Error) lastError_ = m.body;
      lastPayload_ = f.payload.size();
      return m;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

std::optional<Message> RawPeer::waitFor(MsgType type, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = next(left);
    if (!m || m->type == type) return m;
  }
}

bool RawPeer::waitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!closed_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    next(left);
  }
  return true;
}

}  // namespace bb::test
