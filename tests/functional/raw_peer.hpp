#pragma once
// A hand-written protocol peer for functional tests: a blocking loopback
// socket that speaks docs/protocol.md through common/frame, common/message
// and common/login only (no Connection, no buildslave code), and that can
// also send what a well-behaved peer never would: bad UTF-8, unknown
// types, output beyond its window, replies for commands it never got.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/frame.hpp"
#include "common/message.hpp"

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
  Json login(const std::string& role, const std::string& name, const std::string& password);
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

  int fd_ = -1;
  bool closed_ = false;
  FrameDecoder decoder_;
  Json lastError_ = Json::object();
  std::size_t lastPayload_ = 0;
};

}  // namespace bb::test
