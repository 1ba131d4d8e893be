#pragma once
// A framed, heartbeated TCP connection (one per peer). Asio stays inside
// connection.cpp; users see messages, a close reason, and nothing else.
//
// Contract:
//  - start() begins reading; every decoded message goes to the message
//    handler on the io_context thread, in order.
//  - Any malformed input (oversized, unknown type, undecodable payload,
//    text that is not UTF-8) is answered with Error {protocol_error} and
//    closes this connection with a reason naming the problem; so does a
//    ProtocolError thrown by the message handler. Any other exception from
//    the handler closes it ("internal error while handling TYPE: ...").
//    A truncated frame at EOF closes it too.
//  - Silence from the peer for heartbeatTimeout closes it ("heartbeat
//    timeout"); we send a Heartbeat whenever we have been quiet for
//    heartbeatInterval.
//  - The close handler runs exactly once, after which no message handler
//    runs. EOF gives the reason "closed by peer".
//  - Outgoing bytes are queued; a queue above maxQueuedBytes closes the
//    connection ("write queue overflow") rather than growing memory.
//  - With ConnectionOptions::tls the bytes are TLS (1.2 or 1.3): connect()
//    hands out a connection only after the handshake and the check of the
//    master's certificate (pinned fingerprint and/or CA chain); a Listener
//    hands one to its accept handler only after the handshake. A handshake
//    that does not finish within handshakeTimeout fails. See
//    docs/protocol.md, "TLS".
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/message.hpp"
#include "common/tls_context.hpp"

namespace boost::asio {
class io_context;
}

namespace bb {

struct ConnectionOptions {
  std::uint32_t maxFrame = 1u << 20;
  std::chrono::milliseconds heartbeatInterval{10000};
  std::chrono::milliseconds heartbeatTimeout{30000};
  std::size_t maxQueuedBytes = 16u << 20;
  // Null: plain TCP. A server context on a Listener, a client one for connect().
  std::shared_ptr<TlsContext> tls;
  std::chrono::milliseconds handshakeTimeout{15000};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using MessageHandler = std::function<void(Message&&)>;
  using CloseHandler = std::function<void(const std::string& reason)>;
  using ConnectHandler =
      std::function<void(std::shared_ptr<Connection> conn, const std::string& error)>;

  // Resolves, connects and (with opts.tls) runs the TLS handshake and
  // checks the master's certificate; `done` gets either a connection (not
  // started) or an error text. A certificate whose fingerprint is not the
  // pinned one is refused with both fingerprints in the text.
  static void connect(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                      ConnectionOptions opts, ConnectHandler done);

  ~Connection();
  void start(MessageHandler onMessage, CloseHandler onClose);
  void send(MsgType type, Json body);
  void send(const Message& m);
  // Sends a frame whose MessagePack payload is already encoded (a body
  // built once and sent to many peers).
  void sendPayload(MsgType type, const std::uint8_t* payload, std::size_t size);
  // Sends one whole encoded frame (header included) and takes its bytes:
  // `frame` is left empty, with the capacity of a buffer the connection
  // no longer needs (a sender that builds frames in place reuses it, and
  // the bytes are not copied when nothing else is waiting to be written).
  void sendFrame(std::vector<std::uint8_t>& frame);
  // Sends one frame made of `head` (the frame header and the start of its
  // payload, copied) and body[from..] (not copied: the connection holds the
  // body until it is written; many connections may send the same body).
  void sendShared(const std::vector<std::uint8_t>& head,
                  std::shared_ptr<const std::vector<std::uint8_t>> body, std::size_t from);
  // Sends an Error frame {code, message}, then closes once it is written.
  void sendErrorAndClose(const std::string& code, const std::string& message);
  // Closes now; idempotent. The close handler gets `reason`.
  void close(const std::string& reason);
  // Stops / resumes reading from the socket (backpressure).
  void pauseReading();
  void resumeReading();
  void setHeartbeat(std::chrono::milliseconds interval, std::chrono::milliseconds timeout);
  void setMaxFrame(std::uint32_t maxFrame);

  bool isOpen() const;
  // True once we sent Error {protocol_error} (the peer broke the protocol).
  bool closedForProtocolError() const;
  const std::string& peer() const;  // "127.0.0.1:54321"
  std::size_t queuedBytes() const;
  std::uint64_t bytesReceived() const;
  bool isTls() const;
  // The tls-server-end-point channel binding data of this connection (the
  // hash of the master's certificate, RFC 5929); "" without TLS.
  const std::string& channelBinding() const;

  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Accepts TCP connections on host:port (port 0 = ephemeral). With TLS, a
// peer whose first byte is not a TLS handshake record gets one plain Error
// frame {tls_required} and is closed; that and a failed handshake go to
// the reject handler (for the log), never to the accept handler.
class Listener {
 public:
  using AcceptHandler = std::function<void(std::shared_ptr<Connection>)>;
  using RejectHandler = std::function<void(const std::string& peer, const std::string& why)>;
  // Throws std::runtime_error with a readable reason if the bind fails.
  Listener(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
           ConnectionOptions opts, AcceptHandler onAccept);
  ~Listener();
  std::uint16_t port() const;
  void close();  // stop accepting; existing connections are unaffected
  void setOptions(ConnectionOptions opts);
  void setRejectHandler(RejectHandler onReject);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bb
