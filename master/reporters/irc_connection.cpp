#include "master/reporters/irc_connection.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <set>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "common/base64.hpp"
#include "master/reporters/irc_line.hpp"

namespace bb {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct IrcConnection::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, IrcConnectionSettings s, Handlers h)
      : io(io), set(std::move(s)), handlers(std::move(h)), resolver(io), socket(io), retryTimer(io),
        floodTimer(io), idleTimer(io), send(set.rate, set.burst, set.maxQueued), backoff(set.retryInitial) {}

  asio::io_context& io;
  IrcConnectionSettings set;
  Handlers handlers;
  tcp::resolver resolver;
  tcp::socket socket;
  std::unique_ptr<asio::ssl::context> tlsCtx;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  asio::steady_timer retryTimer, floodTimer, idleTimer;
  // A line longer than this (a broken or hostile server) ends the connection.
  asio::streambuf inbuf{64 * 1024};
  std::deque<std::string> out;  // lines being written, in order
  bool writing = false;
  IrcSendQueue send;
  std::chrono::milliseconds backoff;
  std::uint64_t generation = 0;  // bumps on every close: stale handlers see it
  bool stopped = true, connected = false, registered = false;
  std::string nick;
  int nickTries = 0;
  std::set<std::string> joined;
  std::uint64_t connects = 0, sent = 0;
  std::string lastError;

  void connect() {
    const auto gen = ++generation;
    nick = set.nick;
    nickTries = 0;
    resolver.async_resolve(set.host, std::to_string(set.port),
                           [self = shared_from_this(), gen](error_code ec, tcp::resolver::results_type rs) {
                             if (gen != self->generation || self->stopped) return;
                             if (ec) return self->fail("cannot resolve " + self->set.host + ": " + ec.message());
                             asio::async_connect(self->socket, rs, [self, gen](error_code ec, const tcp::endpoint&) {
                               if (gen != self->generation || self->stopped) return;
                               if (ec) return self->fail("cannot connect: " + ec.message());
                               self->onConnected(gen);
                             });
                           });
  }

  void onConnected(std::uint64_t gen) {
    if (!set.tls) return registerNick(gen);
    tlsCtx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    if (set.tlsVerify) {
      tlsCtx->set_default_verify_paths();
      tlsCtx->set_verify_mode(asio::ssl::verify_peer);
    } else {
      tlsCtx->set_verify_mode(asio::ssl::verify_none);
    }
    tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket, *tlsCtx);
    if (set.tlsVerify) tls->set_verify_callback(asio::ssl::host_name_verification(set.host));
    SSL_set_tlsext_host_name(tls->native_handle(), set.host.c_str());
    tls->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(), gen](error_code ec) {
      if (gen != self->generation || self->stopped) return;
      if (ec) return self->fail("TLS handshake with " + self->set.host + " failed: " + ec.message());
      self->registerNick(gen);
    });
  }

  void registerNick(std::uint64_t gen) {
    connected = true;
    ++connects;
    spdlog::info("{}: connected to {}:{}{}", set.name, set.host, set.port, set.tls ? " (TLS)" : "");
    if (!set.saslUser.empty()) writeNow("CAP REQ :sasl");
    if (!set.serverPassword.empty()) writeNow("PASS " + set.serverPassword);
    writeNow("NICK " + nick);
    writeNow("USER " + set.nick + " 0 * :" + set.realname);
    armIdle(gen);
    readLine(gen);
  }

  // A server that says nothing for this long (it PINGs every minute or
  // two; registration takes seconds) is gone without closing the socket.
  static constexpr std::chrono::seconds kIdleLimit{300};
  void armIdle(std::uint64_t gen) {
    idleTimer.expires_after(kIdleLimit);
    idleTimer.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (ec || gen != self->generation || self->stopped) return;
      self->fail("no word from the server in " + std::to_string(kIdleLimit.count()) + " s");
    });
  }

  void readLine(std::uint64_t gen) {
    auto done = [self = shared_from_this(), gen](error_code ec, std::size_t n) {
      if (gen != self->generation || self->stopped) return;
      if (ec == asio::error::not_found) return self->fail("the server sent a line longer than 64 KiB");
      if (ec) return self->fail(ec == asio::error::eof ? "the server closed the connection" : ec.message());
      std::string line(asio::buffers_begin(self->inbuf.data()), asio::buffers_begin(self->inbuf.data()) + n);
      self->inbuf.consume(n);
      self->armIdle(gen);
      try {
        if (auto l = parseIrcLine(line)) self->onLine(*l);
      } catch (const std::exception& e) {
        // The one failure path of a handler: whatever it did half is
        // forgotten with the connection, and a new one starts clean.
        spdlog::error("{}: handling '{}' failed: {}; closing the connection and reconnecting", self->set.name,
                      line.substr(0, 200), e.what());
        return self->fail(std::string("a handler failed: ") + e.what());
      }
      if (gen == self->generation && !self->stopped) self->readLine(gen);
    };
    if (tls) asio::async_read_until(*tls, inbuf, '\n', std::move(done));
    else asio::async_read_until(socket, inbuf, '\n', std::move(done));
  }

  void onLine(const IrcLine& l) {
    const std::string& c = l.command;
    if (c == "PING") return writeNow("PONG :" + l.param(0));
    if (c == "001") {
      registered = true;
      backoff = set.retryInitial;
      nick = l.param(0).empty() ? nick : l.param(0);
      spdlog::info("{}: registered as {}", set.name, nick);
      if (!set.nickservPassword.empty()) writeNow("PRIVMSG NickServ :IDENTIFY " + set.nickservPassword);
      for (const auto& [ch, key] : set.channels) writeNow("JOIN " + ch + (key.empty() ? "" : " " + key));
      flood();  // what was said while the bot was away (bounded by the queue)
      return;
    }
    if ((c == "433" || c == "432" || c == "436") && !registered) {
      if (++nickTries > 3) throw std::runtime_error("no nick based on '" + set.nick + "' is free");
      nick = set.nick.substr(0, 28) + "_" + std::to_string(nickTries);
      spdlog::warn("{}: nick {} is in use; trying {}", set.name, l.param(1), nick);
      return writeNow("NICK " + nick);
    }
    if (c == "CAP" && l.param(1) == "ACK") return writeNow("AUTHENTICATE PLAIN");
    if (c == "CAP" && l.param(1) == "NAK") {
      lastError = "the server does not offer SASL";
      spdlog::error("{}: {}; continuing without logging in", set.name, lastError);
      return writeNow("CAP END");
    }
    if (c == "AUTHENTICATE" && l.param(0) == "+") {
      return writeNow("AUTHENTICATE " +
                      base64Encode(set.saslUser + std::string(1, '\0') + set.saslUser + std::string(1, '\0') +
                                   set.saslPassword));
    }
    if (c == "903") return writeNow("CAP END");
    if (c == "904" || c == "905" || c == "902") {
      lastError = "SASL login refused: " + l.param(l.params.size() - 1);
      spdlog::error("{}: {}", set.name, lastError);
      return writeNow("CAP END");
    }
    if (c == "NICK" && l.nick() == nick) {
      nick = l.param(0);
      return;
    }
    if (c == "JOIN" && l.nick() == nick) {
      joined.insert(l.param(0));
      spdlog::info("{}: joined {}", set.name, l.param(0));
      if (handlers.joined) handlers.joined(l.param(0));
      return;
    }
    if ((c == "KICK" && l.param(1) == nick) || (c == "PART" && l.nick() == nick)) {
      joined.erase(l.param(0));
      spdlog::warn("{}: left {} ({}); joining again", set.name, l.param(0), l.param(2));
      for (const auto& [ch, key] : set.channels)
        if (ch == l.param(0)) writeNow("JOIN " + ch + (key.empty() ? "" : " " + key));
      return;
    }
    if (c == "ERROR") {
      lastError = "server: " + l.param(0);
      return;
    }
    if ((c == "471" || c == "473" || c == "474" || c == "475" || c == "403")) {
      lastError = "cannot join " + l.param(1) + ": " + l.param(2);
      spdlog::error("{}: {}", set.name, lastError);
      return;
    }
    if (c == "PRIVMSG" && registered && handlers.message) handlers.message(l.nick(), l.param(0), l.param(1));
  }

  // Protocol lines that flood control must not delay (PONG, registration).
  void writeNow(std::string line) {
    out.push_back(std::move(line) + "\r\n");
    pump();
  }

  void pump() {
    if (writing || out.empty() || !connected) return;
    writing = true;
    const auto gen = generation;
    auto done = [self = shared_from_this(), gen](error_code ec, std::size_t) {
      if (gen != self->generation || self->stopped) return;
      self->writing = false;
      if (ec) return self->fail("cannot send: " + ec.message());
      self->out.pop_front();
      ++self->sent;
      self->pump();
    };
    if (tls) asio::async_write(*tls, asio::buffer(out.front()), std::move(done));
    else asio::async_write(socket, asio::buffer(out.front()), std::move(done));
  }

  void flood() {
    if (!registered) return;
    for (auto& l : send.take(std::chrono::steady_clock::now())) writeNow(std::move(l));
    const auto wait = send.wait(std::chrono::steady_clock::now());
    if (send.queued() == 0 || floodTimerSet) return;
    floodTimerSet = true;
    floodTimer.expires_after(wait);
    floodTimer.async_wait([self = shared_from_this()](error_code ec) {
      self->floodTimerSet = false;
      if (ec || self->stopped) return;
      self->flood();
    });
  }
  bool floodTimerSet = false;

  void close() {
    ++generation;
    error_code ignored;
    resolver.cancel();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    tls.reset();
    tlsCtx.reset();
    inbuf.consume(inbuf.size());
    out.clear();
    writing = false;
    connected = registered = false;
    joined.clear();
    floodTimer.cancel();
    idleTimer.cancel();
  }

  void fail(const std::string& why) {
    lastError = why;
    close();
    // What was waiting to go out is about a connection that no longer
    // is; announcements of later events go to the new one.
    send.clear();
    spdlog::warn("{}: {}; connecting again in {} ms", set.name, why, backoff.count());
    retryTimer.expires_after(backoff);
    backoff = std::min(backoff * 2, set.retryMax);
    retryTimer.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->stopped) return;
      self->connect();
    });
  }
};

IrcConnection::IrcConnection(asio::io_context& io, IrcConnectionSettings s, Handlers h)
    : impl_(std::make_shared<Impl>(io, std::move(s), std::move(h))) {}

IrcConnection::~IrcConnection() { stop(); }

void IrcConnection::start() {
  if (!impl_->stopped) return;
  impl_->stopped = false;
  impl_->connect();
}

void IrcConnection::stop() {
  if (impl_->stopped) return;
  // A QUIT, best effort: one non-blocking write (a few bytes the socket
  // buffer takes unless the server stopped reading; then it is skipped,
  // never waited for).
  if (impl_->registered && !impl_->tls) {
    error_code ignored;
    const std::string quit = "QUIT :reporter stopped\r\n";
    impl_->socket.non_blocking(true, ignored);
    impl_->socket.write_some(asio::buffer(quit), ignored);
  }
  impl_->stopped = true;
  impl_->retryTimer.cancel();
  impl_->close();
  impl_->handlers = {};
}

void IrcConnection::say(const std::string& target, const std::string& text) {
  for (const auto& piece : splitIrcText(text)) impl_->send.push("PRIVMSG " + target + " :" + piece);
  impl_->flood();
}

std::string IrcConnection::nick() const { return impl_->nick; }

Json IrcConnection::describe() const {
  const auto& i = *impl_;
  return Json{{"connected", i.connected}, {"registered", i.registered}, {"nick", i.nick},
              {"channels", std::vector<std::string>(i.joined.begin(), i.joined.end())},
              {"connects", i.connects}, {"retries", i.connects > 0 ? i.connects - 1 : 0}, {"failed", 0},
              {"sent", i.sent}, {"dropped", i.send.dropped()},
              {"queued", i.send.queued()}, {"last_error", i.lastError}};
}

}  // namespace bb
