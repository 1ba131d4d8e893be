#include "common/connection.hpp"

#include <deque>

#include "common/connection_impl.hpp"

namespace bb {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr auto kFlushLimit = std::chrono::seconds(5);
}  // namespace

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

bool Connection::isOpen() const { return impl_->open; }
bool Connection::closedForProtocolError() const { return impl_->brokeProtocol; }
const std::string& Connection::peer() const { return impl_->peer; }
std::size_t Connection::queuedBytes() const { return impl_->queued; }
std::uint64_t Connection::bytesReceived() const { return impl_->received; }
bool Connection::isTls() const { return impl_->tls != nullptr; }
const std::string& Connection::channelBinding() const { return impl_->channelBinding; }

void Connection::setMaxFrame(std::uint32_t maxFrame) {
  impl_->opts.maxFrame = maxFrame;
  // The decoder keeps its limit for bytes already buffered; a new decoder
  // would lose them, so the limit applies from the next connection on.
}

namespace {

// One read buffer for every connection on this thread: a connection waits
// for readability and then reads into it, so an idle connection holds no
// read buffer of its own (thousands of idle slaves stay cheap).
std::uint8_t* sharedReadBuffer() {
  thread_local std::array<std::uint8_t, kReadChunk> buf;
  return buf.data();
}

// The read/write/heartbeat machinery lives in free functions taking the
// owning shared_ptr, so every pending operation keeps the connection alive.
void doRead(const std::shared_ptr<Connection>& self, Connection::Impl& im);
void doWrite(const std::shared_ptr<Connection>& self, Connection::Impl& im);
void armSendTimer(const std::shared_ptr<Connection>& self, Connection::Impl& im);
void armRecvTimer(const std::shared_ptr<Connection>& self, Connection::Impl& im);

// Hands decoded frames to the handler until the decoder needs more bytes,
// reading is paused, or the connection closes. Returns false on close.
bool dispatchFrames(const std::shared_ptr<Connection>& self, Connection::Impl& im) {
  Frame f;
  while (im.open && !im.paused && !im.closing) {
    auto st = im.decoder.next(f);
    if (st == FrameDecoder::Status::NeedMore) return true;
    if (st == FrameDecoder::Status::Error) {
      self->sendErrorAndClose("protocol_error", im.decoder.error());
      return false;
    }
    Message m;
    try {
      m = decodeMessage(f.type, f.payload);
    } catch (const ProtocolError& e) {
      self->sendErrorAndClose("protocol_error", e.what());
      return false;
    }
    // The handler's failure path, so that a throwing handler can never
    // leave the connection open but no longer read (and its peer's work
    // wedged until the heartbeat timeout): a ProtocolError is the peer's
    // fault and is answered with Error; anything else is ours, and closes.
    const MsgType type = m.type;
    try {
      if (im.onMessage) im.onMessage(std::move(m));
    } catch (const ProtocolError& e) {
      self->sendErrorAndClose("protocol_error", std::string(toString(type)) + ": " + e.what());
      return false;
    } catch (const std::exception& e) {
      self->close("internal error while handling " + std::string(toString(type)) + ": " + e.what());
      return false;
    }
  }
  return im.open;
}

// A read ended with an error: EOF (or, with TLS, a peer that closed
// without the TLS goodbye) is "closed by peer" unless a frame was cut.
void readFailed(const std::shared_ptr<Connection>& self, Connection::Impl& im,
                const boost::system::error_code& ec) {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    if (im.decoder.buffered() > 0)
      self->close("protocol error: truncated frame at end of stream (" +
                  std::to_string(im.decoder.buffered()) + " bytes)");
    else
      self->close("closed by peer");
  } else {
    self->close(ec.message());
  }
}

void gotBytes(const std::shared_ptr<Connection>& self, Connection::Impl& im,
              const std::uint8_t* data, std::size_t n) {
  im.received += n;
  im.lastRecv = std::chrono::steady_clock::now();
  im.decoder.feed(data, n);
  if (dispatchFrames(self, im)) doRead(self, im);
}

void doRead(const std::shared_ptr<Connection>& self, Connection::Impl& im) {
  if (!im.open || im.paused || im.reading || im.closing) return;
  im.reading = true;
  if (im.tls) {
    if (im.tlsReadBuffer.empty()) im.tlsReadBuffer.resize(Connection::Impl::kTlsReadChunk);
    im.tls->async_read_some(asio::buffer(im.tlsReadBuffer),
                            [self, &im](const boost::system::error_code& ec, std::size_t n) {
                              im.reading = false;
                              if (!im.open) return;
                              if (ec) {
                                if (ec != asio::error::operation_aborted) readFailed(self, im, ec);
                                return;
                              }
                              gotBytes(self, im, im.tlsReadBuffer.data(), n);
                            });
    return;
  }
  im.socket.async_wait(tcp::socket::wait_read, [self, &im](const boost::system::error_code& waitEc) {
    im.reading = false;
    if (!im.open) return;
    if (waitEc) {
      if (waitEc != asio::error::operation_aborted) self->close(waitEc.message());
      return;
    }
    boost::system::error_code ec;
    const std::size_t n = im.socket.read_some(asio::buffer(sharedReadBuffer(), kReadChunk), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      doRead(self, im);
      return;
    }
    if (ec) {
      readFailed(self, im, ec);
      return;
    }
    gotBytes(self, im, sharedReadBuffer(), n);
  });
}

void doWrite(const std::shared_ptr<Connection>& self, Connection::Impl& im) {
  if (!im.open || im.writing) return;
  if (im.pending.empty()) {
    if (im.closing) self->close(im.closingReason);
    return;
  }
  im.writing = true;
  im.inflight.swap(im.pending);
  im.buffers.clear();
  std::size_t bytes = 0;
  for (const auto& seg : im.inflight) {
    if (!seg.own.empty()) im.buffers.emplace_back(seg.own.data(), seg.own.size());
    if (seg.shared) im.buffers.emplace_back(seg.shared->data() + seg.from, seg.shared->size() - seg.from);
    bytes += seg.size();
  }
  auto written = [self, &im, bytes](const boost::system::error_code& ec, std::size_t) {
    im.writing = false;
    im.queued -= bytes;
    // The first run's buffer is kept (its capacity), the shared bodies let go.
    im.spare.swap(im.inflight.front().own);
    im.spare.clear();
    im.inflight.clear();
    if (!im.open) return;
    if (ec) {
      if (ec != asio::error::operation_aborted) self->close(ec.message());
      return;
    }
    doWrite(self, im);
  };
  if (im.tls)
    asio::async_write(*im.tls, im.buffers, std::move(written));
  else
    asio::async_write(im.socket, im.buffers, std::move(written));
}

void armSendTimer(const std::shared_ptr<Connection>& self, Connection::Impl& im) {
  if (!im.open || im.opts.heartbeatInterval.count() <= 0) return;
  im.sendTimer.expires_at(im.lastSend + im.opts.heartbeatInterval);
  im.sendTimer.async_wait([self, &im](const boost::system::error_code& ec) {
    if (ec || !im.open) return;
    if (std::chrono::steady_clock::now() - im.lastSend >= im.opts.heartbeatInterval)
      self->send(MsgType::Heartbeat, Json::object());
    armSendTimer(self, im);
  });
}

void armRecvTimer(const std::shared_ptr<Connection>& self, Connection::Impl& im) {
  if (!im.open || im.opts.heartbeatTimeout.count() <= 0) return;
  im.recvTimer.expires_at(im.lastRecv + im.opts.heartbeatTimeout);
  im.recvTimer.async_wait([self, &im](const boost::system::error_code& ec) {
    if (ec || !im.open) return;
    if (std::chrono::steady_clock::now() - im.lastRecv >= im.opts.heartbeatTimeout) {
      self->close("heartbeat timeout: nothing received for " +
                  std::to_string(im.opts.heartbeatTimeout.count()) + " ms");
      return;
    }
    armRecvTimer(self, im);
  });
}

// Frames were added to `pending`: a queue grown past its limit closes the
// connection (the peer is not reading), else the bytes go out.
void queuedMore(Connection& c, Connection::Impl& im) {
  im.lastSend = std::chrono::steady_clock::now();
  if (c.queuedBytes() > im.opts.maxQueuedBytes) {
    c.close("write queue overflow: peer is not reading (" + std::to_string(c.queuedBytes()) +
            " bytes queued)");
    return;
  }
  if (im.started) doWrite(c.shared_from_this(), im);
}

}  // namespace

void Connection::start(MessageHandler onMessage, CloseHandler onClose) {
  auto& im = *impl_;
  im.onMessage = std::move(onMessage);
  im.onClose = std::move(onClose);
  if (im.started) return;
  im.started = true;
  im.lastRecv = im.lastSend = std::chrono::steady_clock::now();
  auto self = shared_from_this();
  armSendTimer(self, im);
  armRecvTimer(self, im);
  doRead(self, im);
  if (!im.pending.empty()) doWrite(self, im);
}

void Connection::send(const Message& m) {
  auto& im = *impl_;
  if (!im.open || im.closing) return;
  auto& out = im.tail();
  const std::size_t before = out.size();
  encodeMessage(m, out);
  im.queued += out.size() - before;
  queuedMore(*this, im);
}

void Connection::sendPayload(MsgType type, const std::uint8_t* payload, std::size_t size) {
  auto& im = *impl_;
  if (!im.open || im.closing) return;
  encodeFrame(static_cast<std::uint16_t>(type), payload, size, im.tail());
  im.queued += kFrameHeaderSize + size;
  queuedMore(*this, im);
}

void Connection::sendFrame(std::vector<std::uint8_t>& frame) {
  auto& im = *impl_;
  if (!im.open || im.closing) {
    frame.clear();
    return;
  }
  im.queued += frame.size();
  if (im.pending.empty()) {
    im.pending.emplace_back();
    im.pending.back().own.swap(frame);
    frame.swap(im.spare);
  } else {
    auto& out = im.tail();
    out.insert(out.end(), frame.begin(), frame.end());
  }
  frame.clear();
  queuedMore(*this, im);
}

void Connection::sendShared(const std::vector<std::uint8_t>& head,
                            std::shared_ptr<const std::vector<std::uint8_t>> body, std::size_t from) {
  auto& im = *impl_;
  if (!im.open || im.closing || !body || from > body->size()) return;
  im.tail();  // a run that no shared bytes follow yet
  auto& seg = im.pending.back();
  const std::size_t before = seg.size();
  seg.own.insert(seg.own.end(), head.begin(), head.end());
  if (im.tls) {
    // Encrypted anyway: one run of bytes makes one TLS record, not one per buffer.
    seg.own.insert(seg.own.end(), body->begin() + static_cast<std::ptrdiff_t>(from), body->end());
  } else {
    seg.shared = std::move(body);
    seg.from = from;
  }
  im.queued += seg.size() - before;
  queuedMore(*this, im);
}

void Connection::send(MsgType type, Json body) {
  Message m;
  m.type = type;
  m.body = std::move(body);
  send(m);
}

void Connection::sendErrorAndClose(const std::string& code, const std::string& message) {
  auto& im = *impl_;
  if (!im.open || im.closing) return;
  if (code == "protocol_error") im.brokeProtocol = true;
  send(MsgType::Error, Json{{"code", code}, {"message", message}});
  if (!im.open) return;
  im.closing = true;
  im.closingReason = code + ": " + message;
  auto self = shared_from_this();
  im.flushTimer.expires_after(kFlushLimit);
  im.flushTimer.async_wait([self, &im](const boost::system::error_code& ec) {
    if (!ec && im.open) self->close(im.closingReason + " (peer did not read the error)");
  });
  if (im.started) doWrite(self, im);
  else close(im.closingReason);
}

void Connection::close(const std::string& reason) {
  auto& im = *impl_;
  if (!im.open) return;
  im.open = false;
  boost::system::error_code ec;
  im.sendTimer.cancel();
  im.recvTimer.cancel();
  im.flushTimer.cancel();
  im.socket.shutdown(tcp::socket::shutdown_both, ec);
  im.socket.close(ec);
  im.onMessage = nullptr;
  auto handler = std::move(im.onClose);
  im.onClose = nullptr;
  if (handler) {
    // Posted, so a handler that calls close() never re-enters its caller.
    asio::post(im.socket.get_executor(),
               [self = shared_from_this(), handler = std::move(handler), reason] { handler(reason); });
  }
}

void Connection::pauseReading() { impl_->paused = true; }

void Connection::resumeReading() {
  auto& im = *impl_;
  if (!im.paused) return;
  im.paused = false;
  auto self = shared_from_this();
  // Frames already buffered are delivered before reading more.
  asio::post(im.socket.get_executor(), [self, &im] {
    if (dispatchFrames(self, im)) doRead(self, im);
  });
}

void Connection::setHeartbeat(std::chrono::milliseconds interval,
                              std::chrono::milliseconds timeout) {
  auto& im = *impl_;
  im.opts.heartbeatInterval = interval;
  im.opts.heartbeatTimeout = timeout;
  if (!im.started || !im.open) return;
  auto self = shared_from_this();
  im.sendTimer.cancel();
  im.recvTimer.cancel();
  // Cancelled waits complete with operation_aborted and do not re-arm.
  asio::post(im.socket.get_executor(), [self, &im] {
    armSendTimer(self, im);
    armRecvTimer(self, im);
  });
}

}  // namespace bb
