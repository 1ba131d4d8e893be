// The Beast side of the web server: the acceptor and one Session per
// connection. The only translation unit that includes Boost.Beast.
#include "master/web/http_server.hpp"

#include <deque>
#include <map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace bb::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// This file's internals, in a named namespace rather than an anonymous
// one: State, a member of HttpServer, holds pointers to a Session.
namespace http_session {
class Session;
}  // namespace http_session

struct HttpServer::State {
  State(asio::io_context& i, HttpServerOptions o, RequestHandler h)
      : io(i), opts(std::move(o)), handler(std::move(h)), acceptor(i) {}
  asio::io_context& io;
  HttpServerOptions opts;
  RequestHandler handler;
  tcp::acceptor acceptor;
  std::map<http_session::Session*, std::weak_ptr<http_session::Session>> sessions;
  bool accepting = false;
  std::uint16_t port = 0;
};

namespace http_session {

using State = HttpServer::State;

bool isHttpParseError(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_target).category();
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, std::shared_ptr<State> st)
      : stream_(std::move(s)), st_(std::move(st)), keepAliveTimer_(st_->io) {
    beast::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? std::string("?") : ep.address().to_string();
  }

  void start() { doRead(); }

  // The one way a connection ends: idempotent.
  void finish() {
    if (closed_) return;
    closed_ = true;
    keepAliveTimer_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
    st_->sessions.erase(this);
    if (onClosed_) {
      auto fn = std::move(onClosed_);
      onClosed_ = nullptr;
      fn();
    }
  }

  // --- event streams (SessionSink forwards here) ---
  bool push(std::shared_ptr<const std::string> piece) {
    if (closed_ || finishing_) return false;
    queueBytes_ += piece->size();
    outq_.push_back(std::move(piece));
    writeQueued();
    return true;
  }
  bool pushAll(std::vector<std::shared_ptr<const std::string>>& pieces) {
    if (closed_ || finishing_) return false;
    for (auto& p : pieces) {
      queueBytes_ += p->size();
      outq_.push_back(std::move(p));
    }
    pieces.clear();
    writeQueued();
    return true;
  }
  void finishStream(std::string last) {
    if (closed_ || finishing_) return;
    if (!last.empty()) {
      queueBytes_ += last.size();
      outq_.push_back(std::make_shared<const std::string>(std::move(last)));
    }
    finishing_ = true;
    if (!writing_) writeQueued();
  }
  std::size_t queued() const { return queueBytes_; }
  std::function<void()> onDrained_;
  std::function<void()> onClosed_;

 private:
  const HttpServerOptions& opts() const { return st_->opts; }

  void doRead() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(opts().maxHeaderBytes));
    parser_->body_limit(opts().maxBodyBytes);
    stream_.expires_after(requests_ == 0 ? opts().readTimeout : opts().idleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (closed_) return;
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted)
      return finish();
    if (ec == beast::error::timeout) {
      spdlog::debug("web: {}: no complete request within the deadline; closed", remote_);
      return finish();
    }
    if (ec && isHttpParseError(ec)) {
      // The request could not be read whole: answer why, then close (the
      // rest of it is still on the wire).
      HttpRequest req;
      req.remote = remote_;
      // The start line is parsed first: the target is known even when a
      // header field (Content-Length over the limit) stopped the parser.
      if (!parser_->get().target().empty()) {
        req.target = std::string(parser_->get().target());
        try {
          splitTarget(req);
        } catch (const std::exception&) {
        }
      }
      int status = 400;
      std::string msg = "malformed HTTP request: " + ec.message();
      if (ec == http::error::body_limit) {
        status = 413;
        msg = "the request body is larger than the limit of " + std::to_string(opts().maxBodyBytes) + " bytes";
      } else if (ec == http::error::header_limit) {
        status = 431;
        msg = "the request header is larger than the limit of " + std::to_string(opts().maxHeaderBytes) + " bytes";
      }
      spdlog::info("web: {} from {}: {}", status, remote_, msg);
      HttpResponse res = errorResponse(req, status, msg);
      res.close = true;
      lingerOnClose_ = true;
      return answer(std::move(res), 11, false, false);
    }
    if (ec) {
      spdlog::debug("web: {}: read failed: {}", remote_, ec.message());
      return finish();
    }
    ++requests_;
    auto msg = parser_->release();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.remote = remote_;
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto [it, fresh] = req.headers.emplace(name, std::string(f.value()));
      if (!fresh) it->second += ", " + std::string(f.value());
    }
    req.body = std::move(msg.body());
    const bool keepAlive = msg.keep_alive();
    const unsigned version = msg.version();
    HttpResponse res;
    try {
      splitTarget(req);
      res = st_->handler(req);
    } catch (const HttpError& e) {
      res = errorResponse(req, e.status, e.what());
    } catch (const std::exception& e) {
      spdlog::error("web: {} {} from {}: the handler failed: {}", req.method, req.target, remote_, e.what());
      res = errorResponse(req, 500, std::string("internal error: ") + e.what());
      res.close = true;
    }
    if (res.status >= 500) spdlog::error("web: {} {} {} from {}", res.status, req.method, req.target, remote_);
    else if (res.status >= 400) spdlog::info("web: {} {} {} from {}", res.status, req.method, req.target, remote_);
    const bool keep = keepAlive && !res.close;
    answer(std::move(res), version, keep, req.method == "HEAD");
  }

  template <class Msg>
  void setFields(Msg& m, const HttpResponse& res) {
    m.set(http::field::server, "buildmaster");
    m.set(http::field::content_type, res.contentType);
    for (const auto& [k, v] : res.headers) m.set(k, v);
  }

  void answer(HttpResponse res, unsigned version, bool keepAlive, bool head) {
    if (res.events) return startEvents(std::move(res), version);
    if (res.stream) return startStream(std::move(res), version, keepAlive, head);
    auto msg = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(res.status), version);
    setFields(*msg, res);
    msg->keep_alive(keepAlive);
    const std::size_t size = res.body.size();
    if (!head) msg->body() = std::move(res.body);
    msg->prepare_payload();
    if (head) msg->content_length(size);
    stream_.expires_after(opts().writeTimeout);
    http::async_write(stream_, *msg, [self = shared_from_this(), msg, keepAlive](beast::error_code ec, std::size_t) {
      self->onWritten(ec, keepAlive);
    });
  }

  void onWritten(beast::error_code ec, bool keepAlive) {
    if (closed_) return;
    if (ec) {
      spdlog::debug("web: {}: write failed: {}", remote_, ec.message());
      return finish();
    }
    if (!keepAlive) return lingerOnClose_ ? linger() : finish();
    doRead();
  }

  // After refusing a request that was not read whole: closing at once with
  // its rest unread would reset the connection, and the client could lose
  // the answer. So: stop sending, read and drop what still comes (bounded
  // in bytes and time), then close.
  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    stream_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (self->closed_) return;
      self->lingered_ += n;
      if (ec || self->lingered_ > kMaxLinger) return self->finish();
      self->linger();
    });
  }

  // --- a streamed body: one piece at a time, the next only when it is written ---
  void startStream(HttpResponse res, unsigned version, bool keepAlive, bool head) {
    auto hdr = std::make_shared<http::response<http::empty_body>>(static_cast<http::status>(res.status), version);
    setFields(*hdr, res);
    hdr->keep_alive(keepAlive);
    hdr->chunked(true);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*hdr);
    gen_ = head ? nullptr : std::move(res.stream);
    stream_.expires_after(opts().writeTimeout);
    http::async_write_header(stream_, *sr, [self = shared_from_this(), hdr, sr, keepAlive](beast::error_code ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->finish();
      self->nextPiece(keepAlive);
    });
  }

  void nextPiece(bool keepAlive) {
    piece_.clear();
    bool more = false;
    if (gen_) {
      try {
        more = gen_(piece_);
      } catch (const std::exception& e) {
        // The status is out already: the client sees a body cut short.
        spdlog::error("web: {}: a streamed answer failed midway: {}", remote_, e.what());
        return finish();
      }
    }
    if (piece_.empty()) return writeLast(keepAlive);
    stream_.expires_after(opts().writeTimeout);
    asio::async_write(stream_, http::make_chunk(asio::buffer(piece_)),
                      [self = shared_from_this(), more, keepAlive](beast::error_code ec, std::size_t) {
                        if (self->closed_) return;
                        if (ec) return self->finish();
                        if (more) self->nextPiece(keepAlive);
                        else self->writeLast(keepAlive);
                      });
  }

  void writeLast(bool keepAlive) {
    gen_ = nullptr;
    stream_.expires_after(opts().writeTimeout);
    asio::async_write(stream_, http::make_chunk_last(),
                      [self = shared_from_this(), keepAlive](beast::error_code ec, std::size_t) {
                        self->onWritten(ec, keepAlive);
                      });
  }

  // --- an event stream ---
  void startEvents(HttpResponse res, unsigned version);
  // Writes every queued piece as one chunk (one write, however many events
  // came while the last one was on its way); one write at a time. What
  // paces the writes is the event bus: a client gets a round of events at
  // most every 50 ms (event_stream.cpp), so a round is one write: with
  // many clients on every event a write per event per client cost the
  // master more than the builds did. The pieces are copied into one buffer
  // first: a chunk of many small pieces went out as one sendmsg per 64 of
  // them, and on loopback each send is the whole TCP path
  // (docs/performance.md, "Web"). Pieces pushed meanwhile wait.
  void writeQueued() {
    if (closed_ || writing_) return;
    if (outq_.empty()) {
      if (finishing_) return writeLast(false);
      if (onDrained_) onDrained_();
      return;
    }
    writing_ = true;
    wbuf_.clear();
    wbuf_.reserve(queueBytes_);  // nothing is in flight: the queue is all of it
    for (const auto& p : outq_) wbuf_ += *p;
    outq_.clear();
    const std::size_t bytes = wbuf_.size();
    stream_.expires_after(opts().writeTimeout);
    asio::async_write(stream_, http::make_chunk(asio::buffer(wbuf_)),
                      [self = shared_from_this(), bytes](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (self->closed_) return;
                        if (ec) {
                          spdlog::info("web: event stream to {} ended: {}", self->remote_, ec.message());
                          return self->finish();
                        }
                        self->queueBytes_ -= bytes;
                        // An idle stream does not keep a big buffer (1,000 idle clients).
                        if (self->wbuf_.capacity() > kKeptWriteBuffer) std::string().swap(self->wbuf_);
                        self->writeQueued();
                      });
  }
  void keepStreamAlive() {
    keepAliveTimer_.expires_after(opts().streamKeepAlive);
    keepAliveTimer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (self->outq_.empty()) self->push(std::make_shared<const std::string>(": keep-alive\n\n"));
      self->keepStreamAlive();
    });
  }
  // The client sends nothing on an event stream; a read that ends says it left.
  void watchForClose() {
    stream_.socket().async_read_some(asio::buffer(drain_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->finish();
      self->watchForClose();
    });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<State> st_;
  asio::steady_timer keepAliveTimer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  std::uint64_t requests_ = 0;
  bool closed_ = false;
  std::function<bool(std::string&)> gen_;
  std::string piece_;
  std::deque<std::shared_ptr<const std::string>> outq_;
  std::size_t queueBytes_ = 0;  // queued and in flight
  std::string wbuf_;            // the chunk being written
  static constexpr std::size_t kKeptWriteBuffer = 64 * 1024;
  bool writing_ = false;
  bool finishing_ = false;
  std::array<char, 4096> drain_{};
  bool lingerOnClose_ = false;
  std::size_t lingered_ = 0;
  static constexpr std::size_t kMaxLinger = 4 * 1024 * 1024;
};

class SessionSink : public StreamSink {
 public:
  explicit SessionSink(std::weak_ptr<Session> s) : s_(std::move(s)) {}
  using StreamSink::push;
  bool push(std::shared_ptr<const std::string> piece) override {
    auto s = s_.lock();
    return s && s->push(std::move(piece));
  }
  bool pushAll(std::vector<std::shared_ptr<const std::string>>& pieces) override {
    auto s = s_.lock();
    if (!s) pieces.clear();
    return s && s->pushAll(pieces);
  }
  std::size_t queued() const override {
    auto s = s_.lock();
    return s ? s->queued() : 0;
  }
  void finish(std::string last) override {
    if (auto s = s_.lock()) s->finishStream(std::move(last));
  }

 private:
  std::weak_ptr<Session> s_;
};

void Session::startEvents(HttpResponse res, unsigned version) {
  auto hdr = std::make_shared<http::response<http::empty_body>>(static_cast<http::status>(res.status), version);
  setFields(*hdr, res);
  hdr->set(http::field::cache_control, "no-cache");
  hdr->keep_alive(true);
  hdr->chunked(true);
  auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*hdr);
  auto sink = std::make_shared<SessionSink>(weak_from_this());
  // The sink's callbacks are the session's: the handler sets them on the sink.
  auto start = std::move(res.events);
  stream_.expires_after(opts().writeTimeout);
  writing_ = true;
  http::async_write_header(stream_, *sr, [self = shared_from_this(), hdr, sr, sink, start](beast::error_code ec, std::size_t) {
    self->writing_ = false;
    if (self->closed_) return;
    if (ec) return self->finish();
    start(sink);
    std::weak_ptr<SessionSink> weakSink = sink;
    self->onDrained_ = [weakSink] {
      if (auto k = weakSink.lock(); k && k->onDrained) k->onDrained();
    };
    self->onClosed_ = [sink] {
      if (sink->onClosed) sink->onClosed();
    };
    self->watchForClose();
    self->keepStreamAlive();
    self->writeQueued();
  });
}

void acceptNext(const std::shared_ptr<State>& st);

void refuseBusy(tcp::socket s) {
  static const std::string kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n"
      "Connection: close\r\n\r\ntoo many connections; retry\r\n\r\n";
  auto sock = std::make_shared<tcp::socket>(std::move(s));
  asio::async_write(*sock, asio::buffer(kBusy), [sock](beast::error_code, std::size_t) {
    beast::error_code ec;
    sock->shutdown(tcp::socket::shutdown_both, ec);
    sock->close(ec);
  });
}

void acceptNext(const std::shared_ptr<State>& st) {
  if (!st->accepting) return;
  st->acceptor.async_accept([st](beast::error_code ec, tcp::socket s) {
    if (!st->accepting) return;
    if (ec) {
      // Out of descriptors and the like: keep serving the others.
      spdlog::warn("web: accept failed: {}", ec.message());
    } else if (st->sessions.size() >= st->opts.maxConnections) {
      spdlog::warn("web: {} connections open (the limit); refused one", st->sessions.size());
      refuseBusy(std::move(s));
    } else {
      auto session = std::make_shared<Session>(std::move(s), st);
      st->sessions[session.get()] = session;
      session->start();
    }
    acceptNext(st);
  });
}

}  // namespace http_session

using http_session::acceptNext;

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions opts, RequestHandler handler)
    : state_(std::make_shared<State>(io, std::move(opts), std::move(handler))) {}

HttpServer::~HttpServer() {
  stopAccepting();
  closeAll();
}

void HttpServer::listen() {
  auto& st = *state_;
  beast::error_code ec;
  const auto addr = asio::ip::make_address(st.opts.host, ec);
  if (ec) throw std::runtime_error("web: '" + st.opts.host + "' is not an IP address to bind to (master.web_host)");
  const tcp::endpoint ep(addr, st.opts.port);
  st.acceptor.open(ep.protocol(), ec);
  if (!ec) st.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st.acceptor.bind(ep, ec);
  if (!ec) st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("web: cannot listen on " + st.opts.host + ":" + std::to_string(st.opts.port) +
                             ": " + ec.message() + " (change master.web_port or master.web_host)");
  st.port = st.acceptor.local_endpoint().port();
  st.accepting = true;
  acceptNext(state_);
}

std::uint16_t HttpServer::port() const { return state_->port; }

void HttpServer::stopAccepting() {
  state_->accepting = false;
  beast::error_code ec;
  state_->acceptor.close(ec);
}

void HttpServer::closeAll() {
  auto sessions = state_->sessions;  // finish() erases from the map
  for (auto& [raw, weak] : sessions)
    if (auto s = weak.lock()) s->finish();
}

std::size_t HttpServer::connectionCount() const { return state_->sessions.size(); }

}  // namespace bb::web
