#include "tests/functional/raw_peer.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/login.hpp"
#include "common/tls_cert.hpp"
#include "tests/functional/harness.hpp"

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
  const std::string pinned = masterFingerprintFor(port);
  if (pinned.empty()) return;
  ::signal(SIGPIPE, SIG_IGN);  // SSL_write to a closed socket must fail, not kill the test
  sslCtx_ = SSL_CTX_new(TLS_client_method());
  ssl_ = sslCtx_ ? SSL_new(sslCtx_) : nullptr;
  if (!ssl_) throw std::runtime_error("RawPeer: cannot make an SSL object");
  // Reads return instead of blocking when a record held no data (a TLS 1.3
  // session ticket), so the poll deadline in fill() holds.
  SSL_clear_mode(ssl_, SSL_MODE_AUTO_RETRY);
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1)
    throw std::runtime_error("RawPeer: TLS handshake with 127.0.0.1:" + std::to_string(port) + " failed");
  X509* cert = SSL_get1_peer_certificate(ssl_);
  unsigned char* der = nullptr;
  const int n = cert ? i2d_X509(cert, &der) : 0;
  X509_free(cert);
  if (n <= 0) throw std::runtime_error("RawPeer: the master sent no certificate");
  const std::string derText(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  if (certificateFingerprint(derText) != pinned)
    throw std::runtime_error("RawPeer: the master's certificate is not " + pinned);
  channelBinding_ = tlsServerEndPoint(derText);
}

RawPeer::~RawPeer() {
  if (ssl_) SSL_free(ssl_);
  if (sslCtx_) SSL_CTX_free(sslCtx_);
  if (fd_ >= 0) ::close(fd_);
}

bool RawPeer::writeSome(const std::uint8_t* data, std::size_t size, std::size_t& written) {
  if (ssl_) {
    const int n = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
    if (n <= 0) return false;
    written = static_cast<std::size_t>(n);
    return true;
  }
  ssize_t n;
  do {
    n = ::send(fd_, data, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  written = static_cast<std::size_t>(n);
  return true;
}

long RawPeer::readSome(std::uint8_t* buf, std::size_t size) {
  if (ssl_) {
    const int n = SSL_read(ssl_, buf, static_cast<int>(size));
    if (n > 0) return n;
    const int e = SSL_get_error(ssl_, n);
    return (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? -1 : 0;
  }
  const ssize_t n = ::recv(fd_, buf, size, 0);
  if (n < 0 && errno == EINTR) return -1;
  return n < 0 ? 0 : static_cast<long>(n);
}

Json RawPeer::login(const std::string& role, const std::string& name, const std::string& password,
                    bool bindChannel) {
  ClientLogin login(role, name, password, bindChannel ? channelBinding_ : "");
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
    std::size_t n = 0;
    if (!writeSome(bytes.data() + done, bytes.size() - done, n)) return;  // the master closed; reading tells the test
    done += n;
  }
}

bool RawPeer::fill(Clock::time_point deadline) {
  if (closed_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  if (!ssl_ || SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0) return false;
  }
  std::uint8_t buf[65536];
  const long n = readSome(buf, sizeof buf);
  if (n < 0) return true;  // nothing for us in what arrived; poll again
  if (n == 0) {
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
