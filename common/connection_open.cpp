// Opening connections: connect() on the slave and client side, the
// Listener on the master, and the TLS handshake both use.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/host_name_verification.hpp>

#include "common/connection_impl.hpp"
#include "common/tls_context_impl.hpp"

namespace bb {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// The first byte of a TLS handshake record (ClientHello).
constexpr unsigned char kTlsHandshakeRecord = 0x16;

using HandshakeDone = std::function<void(std::unique_ptr<Connection::Impl>, const std::string& error)>;

// One handshake in progress: owns the connection's inside until it is
// handed on, and a deadline that closes the socket (failing the pending
// operation) if the peer stalls.
struct Handshake : std::enable_shared_from_this<Handshake> {
  Handshake(std::unique_ptr<Connection::Impl> i, HandshakeDone d)
      : impl(std::move(i)), timer(impl->socket.get_executor()), done(std::move(d)) {}
  std::unique_ptr<Connection::Impl> impl;
  asio::steady_timer timer;
  HandshakeDone done;
  bool timedOut = false;
  bool finished = false;

  void armDeadline() {
    timer.expires_after(impl->opts.handshakeTimeout);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->finished) return;
      self->timedOut = true;
      boost::system::error_code ignored;
      self->impl->socket.close(ignored);
    });
  }
  void finish(const std::string& error) {
    if (finished) return;
    finished = true;
    timer.cancel();
    if (!error.empty()) {
      boost::system::error_code ignored;
      impl->socket.close(ignored);
      impl.reset();
    }
    done(std::move(impl), error);
  }
  std::string failure(const boost::system::error_code& ec) const {
    if (timedOut)
      return "TLS handshake timed out after " +
             std::to_string(impl->opts.handshakeTimeout.count()) + " ms";
    std::string text = ec.message();
    if (impl->tls) {
      const long v = SSL_get_verify_result(impl->tls->native_handle());
      if (v != X509_V_OK) text += " (" + std::string(X509_verify_cert_error_string(v)) + ")";
    }
    return "TLS handshake failed: " + text;
  }
};

std::string peerCertificateDer(ssl::stream<tcp::socket&>& s) {
  X509* cert = SSL_get1_peer_certificate(s.native_handle());
  if (!cert) return "";
  unsigned char* buf = nullptr;
  const int n = i2d_X509(cert, &buf);
  X509_free(cert);
  if (n <= 0) return "";
  std::string der(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
  OPENSSL_free(buf);
  return der;
}

// Client side: handshake, then check the certificate against the pin.
void clientHandshake(std::unique_ptr<Connection::Impl> impl, const std::string& host,
                     HandshakeDone done) {
  auto& ctx = impl->opts.tls->impl();
  impl->tls = std::make_unique<ssl::stream<tcp::socket&>>(impl->socket, ctx.ctx);
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) SSL_set_tlsext_host_name(impl->tls->native_handle(), host.c_str());  // SNI for names
  if (!ctx.caFile.empty()) impl->tls->set_verify_callback(ssl::host_name_verification(host));
  auto hs = std::make_shared<Handshake>(std::move(impl), std::move(done));
  hs->armDeadline();
  hs->impl->tls->async_handshake(
      ssl::stream_base::client, [hs, host](const boost::system::error_code& e) {
        if (e) {
          hs->finish(hs->failure(e) + " (if the master runs without TLS, this side needs "
                                      "plain TCP too: see docs/configuration.md)");
          return;
        }
        const std::string der = peerCertificateDer(*hs->impl->tls);
        if (der.empty()) {
          hs->finish("the master sent no certificate");
          return;
        }
        const std::string actual = certificateFingerprint(der);
        const std::string& pinned = hs->impl->opts.tls->fingerprint();
        if (!pinned.empty() && actual != pinned) {
          hs->finish("refusing the master's certificate: expected fingerprint " + pinned +
                     ", the master presented " + actual +
                     " (if its certificate was replaced on purpose, update master_fingerprint)");
          return;
        }
        try {
          hs->impl->channelBinding = tlsServerEndPoint(der);
        } catch (const std::exception& ex) {
          hs->finish(ex.what());
          return;
        }
        hs->finish("");
      });
}

// Server side: a peer that does not open with a TLS record is a plain
// peer; it gets one plain Error frame saying so.
void serverHandshake(std::unique_ptr<Connection::Impl> impl, HandshakeDone done) {
  auto hs = std::make_shared<Handshake>(std::move(impl), std::move(done));
  hs->armDeadline();
  hs->impl->socket.async_wait(tcp::socket::wait_read, [hs](const boost::system::error_code& ec) {
    if (ec) {
      hs->finish(hs->failure(ec));
      return;
    }
    unsigned char first = 0;
    boost::system::error_code rec;
    const std::size_t n =
        hs->impl->socket.receive(asio::buffer(&first, 1), tcp::socket::message_peek, rec);
    if (rec || n == 0) {
      hs->finish(rec ? hs->failure(rec) : "closed before the TLS handshake");
      return;
    }
    if (first != kTlsHandshakeRecord) {
      std::vector<std::uint8_t> frame;
      Message m;
      m.type = MsgType::Error;
      m.body = Json{{"code", "tls_required"},
                    {"message", "this master accepts only TLS connections; give the peer the "
                                "master's certificate fingerprint (docs/configuration.md)"}};
      encodeMessage(m, frame);
      // Read what the peer sent first: closing with unread bytes would
      // reset the connection, and the peer could lose the Error.
      std::array<std::uint8_t, 4096> sink;
      boost::system::error_code rec2;
      for (int i = 0; i < 16 && !rec2; ++i) hs->impl->socket.read_some(asio::buffer(sink), rec2);
      boost::system::error_code wec;
      asio::write(hs->impl->socket, asio::buffer(frame), wec);  // best effort
      hs->impl->socket.shutdown(tcp::socket::shutdown_send, wec);
      hs->finish("a plain-TCP peer was refused: this master requires TLS");
      return;
    }
    auto& ctx = hs->impl->opts.tls->impl();
    hs->impl->tls = std::make_unique<ssl::stream<tcp::socket&>>(hs->impl->socket, ctx.ctx);
    hs->impl->tls->async_handshake(ssl::stream_base::server,
                                   [hs](const boost::system::error_code& e) {
                                     if (e) {
                                       hs->finish(hs->failure(e));
                                       return;
                                     }
                                     hs->impl->channelBinding = hs->impl->opts.tls->serverEndPoint();
                                     hs->finish("");
                                   });
  });
}

}  // namespace

namespace {

// Connects to the first of `endpoints` that answers, then (with TLS)
// makes the handshake.
template <typename Endpoints>
void connectTo(asio::io_context& io, const Endpoints& endpoints, const std::string& host,
               const std::string& where, ConnectionOptions opts, Connection::ConnectHandler done) {
  auto sock = std::make_shared<tcp::socket>(io);
  asio::async_connect(
      *sock, endpoints,
      [sock, opts, done, where, host](const boost::system::error_code& ec, const tcp::endpoint&) {
        if (ec) {
          done(nullptr, "cannot connect to " + where + ": " + ec.message());
          return;
        }
        auto impl = std::make_unique<Connection::Impl>(std::move(*sock), opts);
        if (!opts.tls) {
          done(std::make_shared<Connection>(std::move(impl)), "");
          return;
        }
        clientHandshake(std::move(impl), host,
                        [done, where](std::unique_ptr<Connection::Impl> i, const std::string& error) {
                          if (!i) {
                            done(nullptr, "master at " + where + ": " + error);
                            return;
                          }
                          done(std::make_shared<Connection>(std::move(i)), "");
                        });
      });
}

}  // namespace

void Connection::connect(asio::io_context& io, const std::string& host, std::uint16_t port,
                         ConnectionOptions opts, ConnectHandler done) {
  const std::string where = host + ":" + std::to_string(port);
  // An address needs no lookup: Asio resolves on a thread of its own,
  // which a short-lived client (`buildbot status`) would start only for
  // this.
  boost::system::error_code notAddress;
  const asio::ip::address address = asio::ip::make_address(host, notAddress);
  if (!notAddress) {
    const std::array<tcp::endpoint, 1> endpoints{tcp::endpoint(address, port)};
    connectTo(io, endpoints, host, where, opts, std::move(done));
    return;
  }
  auto resolver = std::make_shared<tcp::resolver>(io);
  resolver->async_resolve(
      host, std::to_string(port),
      [&io, resolver, opts, done, where, host](const boost::system::error_code& ec,
                                               tcp::resolver::results_type results) {
        if (ec) {
          done(nullptr, "cannot resolve " + where + ": " + ec.message());
          return;
        }
        connectTo(io, results, host, where, opts, done);
      });
}

struct Listener::Impl : std::enable_shared_from_this<Listener::Impl> {
  Impl(asio::io_context& io, ConnectionOptions o, AcceptHandler h)
      : acceptor(io), retryTimer(io), opts(o), onAccept(std::move(h)) {}
  tcp::acceptor acceptor;
  asio::steady_timer retryTimer;
  ConnectionOptions opts;
  AcceptHandler onAccept;
  RejectHandler onReject;
  bool open = true;

  void doAccept() {
    if (!open) return;
    acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec,
                                                       tcp::socket sock) {
      if (!self->open) return;
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        // Out of descriptors or similar: back off briefly instead of spinning.
        self->retryTimer.expires_after(std::chrono::milliseconds(100));
        self->retryTimer.async_wait([self](const boost::system::error_code& e) {
          if (!e) self->doAccept();
        });
        return;
      }
      auto impl = std::make_unique<Connection::Impl>(std::move(sock), self->opts);
      if (!self->opts.tls) {
        self->onAccept(std::make_shared<Connection>(std::move(impl)));
      } else {
        const std::string peer = impl->peer;
        serverHandshake(std::move(impl), [self, peer](std::unique_ptr<Connection::Impl> i,
                                                      const std::string& error) {
          if (!self->open) return;
          if (!i) {
            if (self->onReject) self->onReject(peer, error);
            return;
          }
          self->onAccept(std::make_shared<Connection>(std::move(i)));
        });
      }
      self->doAccept();
    });
  }
};

Listener::Listener(asio::io_context& io, const std::string& host, std::uint16_t port,
                   ConnectionOptions opts, AcceptHandler onAccept)
    : impl_(std::make_shared<Impl>(io, opts, std::move(onAccept))) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + host + "': " + ec.message());
  tcp::endpoint ep(addr, port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             ec.message());
  impl_->doAccept();
}

Listener::~Listener() { close(); }

std::uint16_t Listener::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Listener::close() {
  if (!impl_->open) return;
  impl_->open = false;
  boost::system::error_code ec;
  impl_->retryTimer.cancel();
  impl_->acceptor.close(ec);
}

void Listener::setOptions(ConnectionOptions opts) { impl_->opts = opts; }
void Listener::setRejectHandler(RejectHandler onReject) { impl_->onReject = std::move(onReject); }

}  // namespace bb
