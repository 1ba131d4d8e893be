#pragma once
// Connection's inside, shared by common/connection.cpp (reading, writing,
// heartbeats) and common/connection_open.cpp (connecting, accepting, the
// TLS handshake). Nothing else includes this header: it brings in Asio.
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "common/connection.hpp"
#include "common/frame.hpp"

namespace bb {

inline std::string endpointText(const boost::asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown peer";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

struct Connection::Impl {
  using tcp = boost::asio::ip::tcp;
  using Clock = std::chrono::steady_clock;
  // A TLS record carries at most 16 KiB of data.
  static constexpr std::size_t kTlsReadChunk = 16 * 1024;

  Impl(tcp::socket s, ConnectionOptions o)
      : socket(std::move(s)),
        opts(o),
        decoder(o.maxFrame),
        sendTimer(socket.get_executor()),
        recvTimer(socket.get_executor()),
        flushTimer(socket.get_executor()) {
    peer = endpointText(socket);
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);  // best effort: latency, not correctness
    socket.non_blocking(true, ec);                // plain reads happen after async_wait
  }

  tcp::socket socket;
  // Set when the connection is encrypted; reads and writes then go
  // through it (declared after `socket`, which it refers to).
  std::unique_ptr<boost::asio::ssl::stream<tcp::socket&>> tls;
  std::vector<std::uint8_t> tlsReadBuffer;  // TLS reads complete later: a buffer of our own
  std::string channelBinding;               // tls-server-end-point data, "" without TLS
  ConnectionOptions opts;
  FrameDecoder decoder;
  std::string peer;
  MessageHandler onMessage;
  CloseHandler onClose;
  bool started = false;
  bool open = true;
  bool paused = false;
  bool reading = false;
  bool closing = false;  // sendErrorAndClose: flush, then close
  bool brokeProtocol = false;  // closed with, or after receiving, a protocol_error
  std::string closingReason;
  // What is queued to write: bytes of our own (encoded frames), each run
  // of them optionally followed by bytes shared with other connections
  // (Connection::sendShared: a frame body built once for many peers).
  struct Segment {
    std::vector<std::uint8_t> own;
    std::shared_ptr<const std::vector<std::uint8_t>> shared;  // then shared[from..], if set
    std::size_t from = 0;
    std::size_t size() const { return own.size() + (shared ? shared->size() - from : 0); }
  };
  std::vector<Segment> pending;   // not yet handed to the socket
  std::vector<Segment> inflight;  // being written now
  std::vector<boost::asio::const_buffer> buffers;  // inflight's, for the gather write
  std::vector<std::uint8_t> spare;  // a written buffer kept for the next frames (its capacity)
  std::size_t queued = 0;           // bytes in pending and inflight
  bool writing = false;
  // The run of own bytes to append a frame to.
  std::vector<std::uint8_t>& tail() {
    if (pending.empty() || pending.back().shared) {
      pending.emplace_back();
      pending.back().own.swap(spare);
    }
    return pending.back().own;
  }
  std::uint64_t received = 0;
  Clock::time_point lastSend = Clock::now();
  Clock::time_point lastRecv = Clock::now();
  boost::asio::steady_timer sendTimer;
  boost::asio::steady_timer recvTimer;
  boost::asio::steady_timer flushTimer;
};

}  // namespace bb
