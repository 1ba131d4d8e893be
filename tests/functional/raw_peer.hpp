#pragma once
// A hand-written protocol peer for functional tests: a blocking loopback
// socket that speaks docs/protocol.md through common/frame, common/message
// and common/login only (no Connection, no buildslave code), and that can
// also send what a well-behaved peer never would: bad UTF-8, unknown
// types, output beyond its window, replies for commands it never got.
// Over TLS (OpenSSL on the same blocking socket) when the master on that
// port has a certificate (masterFingerprintFor), which it checks; the
// login is then bound to it like a real peer's.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/frame.hpp"
#include "common/message.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace bb::test {

class RawPeer {
 public:
  // Connects to 127.0.0.1:port; throws std::runtime_error if it cannot.
  explicit RawPeer(int port);
  ~RawPeer();
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  // Runs the SCRAM login as `role` ("slave"/"client"); returns the Welcome
  // body. Throws std::runtime_error with the master's Error otherwise.
  // bindChannel false: over TLS, log in without SCRAM channel binding
  // (gs2 header "n,,"), as a peer behind a TLS-terminating middle would.
  Json login(const std::string& role, const std::string& name, const std::string& password,
             bool bindChannel = true);
  bool tls() const { return ssl_ != nullptr; }
  // The SlaveInfo a real slave sends.
  static Json slaveInfo();

  void send(MsgType type, const Json& body);
  // One frame with any type number and payload bytes.
  void sendFrame(std::uint16_t type, const std::vector<std::uint8_t>& payload);
  void sendRaw(const std::vector<std::uint8_t>& bytes);

  // The next message, skipping Heartbeats and answering Pings with Pongs;
  // nullopt once the master closed the connection or after `timeout`.
  std::optional<Message> next(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Skips messages until one of `type` arrives; nullopt as next().
  std::optional<Message> waitFor(MsgType type,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Reads (and drops) until the master closes; false after `timeout`.
  bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool closed() const { return closed_; }
  // Payload size of the last frame next() returned.
  std::size_t lastPayloadSize() const { return lastPayload_; }
  // The body of the last Error received ({} if none).
  const Json& lastError() const { return lastError_; }

 private:
  // Reads more bytes into the decoder; false on EOF or timeout.
  bool fill(std::chrono::steady_clock::time_point deadline);

  // Blocking write/read of bytes, through TLS when it is on.
  bool writeSome(const std::uint8_t* data, std::size_t size, std::size_t& written);
  long readSome(std::uint8_t* buf, std::size_t size);  // <0: try again, 0: closed

  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  ssl_ctx_st* sslCtx_ = nullptr;
  std::string channelBinding_;
  bool closed_ = false;
  FrameDecoder decoder_;
  Json lastError_ = Json::object();
  std::size_t lastPayload_ = 0;
};

}  // namespace bb::test
