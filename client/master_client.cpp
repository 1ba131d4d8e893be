#include "client/master_client.hpp"

#include <cctype>
#include <deque>
#include <functional>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "client/client_error.hpp"
#include "common/connection.hpp"
#include "common/events_zstd.hpp"
#include "common/login.hpp"

namespace bb::client {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

std::string formatSeconds(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  std::string s = std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100);
  if (ms % 100 != 0) s += std::to_string((ms % 100) / 10);
  return s + " s";
}

struct MasterClient::Impl {
  Impl(MasterAddress a, Credentials c, MasterClientOptions o)
      : address(std::move(a)), credentials(std::move(c)), opts(o) {}

  MasterAddress address;
  Credentials credentials;
  MasterClientOptions opts;
  asio::io_context io;
  std::shared_ptr<Connection> conn;
  bool loggedIn = false;
  std::string masterName;
  std::int64_t nextId = 1;

  // State the io handlers fill in; the waiting loop reads it.
  std::optional<std::string> closedReason;
  std::optional<Message> lastMessage;  // the message the current wait is after
  std::function<bool(const Message&)> wanted;
  std::optional<std::string> sessionError;  // an Error frame from the master
  std::deque<Json> events;                  // Events frames not handed out yet

  // Runs the io_context until `done()` or the deadline. Returns false on
  // timeout. Stops early (returning true) if the connection closed.
  bool runUntil(const std::function<bool()>& done, SteadyClock::time_point deadline) {
    while (!done()) {
      if (SteadyClock::now() >= deadline) return false;
      if (io.stopped()) io.restart();
      const std::size_t n = io.run_one_until(deadline);
      // No handler ran and nothing is pending: nothing can ever finish the
      // wait, so report the connection as gone rather than spinning.
      if (n == 0 && io.stopped() && !done() && SteadyClock::now() < deadline) {
        if (!closedReason) closedReason = "no pending work (connection gone)";
        return true;
      }
    }
    return true;
  }

  void onMessage(Message&& m) {
    if (m.type == MsgType::Heartbeat) return;
    if (m.type == MsgType::Error) {
      std::string code = m.body.value("code", std::string("error"));
      std::string message = m.body.value("message", std::string(""));
      sessionError = code + ": " + message;
      return;
    }
    if (m.type == MsgType::Events) {
      // Compressed events are expanded here: callers see {events} frames
      // either way. A bad one throws ProtocolError, which closes the
      // connection with the reason.
      events.push_back(expandEvents(std::move(m.body)));
      return;
    }
    if (wanted && wanted(m)) lastMessage = std::move(m);
  }

  void closeNow(const std::string& reason) {
    if (!conn) return;
    conn->close(reason);
    io.restart();
    io.poll();  // let cancelled operations and the close handler finish
    conn.reset();
  }
};

MasterClient::MasterClient(MasterAddress address, Credentials credentials, MasterClientOptions opts)
    : impl_(std::make_unique<Impl>(std::move(address), std::move(credentials), opts)) {}

MasterClient::~MasterClient() { close(); }

const std::string& MasterClient::masterName() const { return impl_->masterName; }

void MasterClient::close() {
  if (impl_) impl_->closeNow("client finished");
}

void MasterClient::connect() {
  Impl& im = *impl_;
  if (im.loggedIn) return;
  im.closedReason.reset();
  im.sessionError.reset();
  const std::string where = im.address.toString();
  const auto deadline = SteadyClock::now() + im.opts.connectTimeout;

  // 1. TCP connect.
  std::optional<std::string> connectError;
  bool connected = false;
  ConnectionOptions copts;
  if (im.opts.trust.tls) {
    try {
      copts.tls = TlsContext::forClient(im.opts.trust.fingerprint, im.opts.trust.caFile);
    } catch (const TlsError& e) {
      throw ConnectError(std::string("cannot set up TLS for ") + where + ": " + e.what());
    }
  }
  Connection::connect(im.io, im.address.host, im.address.port, copts,
                      [&](std::shared_ptr<Connection> c, const std::string& error) {
                        if (!c) {
                          connectError = error;
                          return;
                        }
                        im.conn = std::move(c);
                        connected = true;
                      });
  if (!im.runUntil([&] { return connected || connectError.has_value(); }, deadline))
    throw ConnectError("cannot connect to " + where + ": timed out after " +
                       formatSeconds(im.opts.connectTimeout));
  if (connectError) {
    // Asio says "Connection refused"; our messages are lower-case after ':'.
    std::string text = *connectError;
    const std::string prefix = "cannot connect to " + where + ": ";
    if (text.rfind(prefix, 0) == 0 && text.size() > prefix.size())
      text[prefix.size()] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[prefix.size()])));
    else if (text.rfind("cannot ", 0) != 0 && text.rfind("master at ", 0) != 0)
      text = prefix + text;
    throw ConnectError(text);
  }

  // 2. Login (SCRAM): Hello, AuthChallenge, AuthProof, Welcome.
  im.conn->start([&im](Message&& m) { im.onMessage(std::move(m)); },
                 [&im](const std::string& reason) { im.closedReason = reason; });
  ClientLogin login("client", im.credentials.user, im.credentials.password,
                    im.conn->channelBinding());
  im.wanted = [](const Message& m) { return m.type != MsgType::Response; };
  im.conn->send(login.hello());
  while (true) {
    im.lastMessage.reset();
    const bool inTime = im.runUntil(
        [&] { return im.lastMessage || im.sessionError || im.closedReason; }, deadline);
    if (im.sessionError) {
      const std::string err = *im.sessionError;
      im.closeNow("login refused");
      throw ConnectError("login refused by master: " + err);
    }
    if (!inTime) {
      im.closeNow("login timed out");
      throw ConnectError("login to " + where + " timed out after " +
                         formatSeconds(im.opts.connectTimeout));
    }
    if (!im.lastMessage) {
      const std::string reason = im.closedReason.value_or("closed");
      im.closeNow(reason);
      throw ConnectError("connection to " + where + " lost during login: " + reason);
    }
    ClientLogin::Step step;
    try {
      step = login.onMessage(*im.lastMessage);
    } catch (const std::exception& e) {
      im.closeNow("login failed");
      throw ConnectError(std::string("login to ") + where + " failed: " + e.what());
    }
    if (step.kind == ClientLogin::Step::Wait) continue;
    if (step.kind == ClientLogin::Step::Send) {
      im.conn->send(step.reply);
      continue;
    }
    if (step.kind == ClientLogin::Step::Failed) {
      im.closeNow("login failed");
      throw ConnectError("login to " + where + " failed: " + step.error);
    }
    // Done: apply the session settings the master chose.
    const Json& w = step.welcome;
    im.masterName = w.value("master", std::string(""));
    if (w.contains("heartbeat_interval_ms") && w.contains("heartbeat_timeout_ms") &&
        w["heartbeat_interval_ms"].is_number_integer() &&
        w["heartbeat_timeout_ms"].is_number_integer())
      im.conn->setHeartbeat(std::chrono::milliseconds(w["heartbeat_interval_ms"].get<std::int64_t>()),
                            std::chrono::milliseconds(w["heartbeat_timeout_ms"].get<std::int64_t>()));
    if (w.contains("max_frame") && w["max_frame"].is_number_unsigned())
      im.conn->setMaxFrame(w["max_frame"].get<std::uint32_t>());
    im.loggedIn = true;
    return;
  }
}

Json MasterClient::call(const std::string& method, const Json& params) {
  connect();
  Impl& im = *impl_;
  const std::int64_t id = im.nextId++;
  im.wanted = [id](const Message& m) {
    if (m.type != MsgType::Response) return false;
    auto it = m.body.find("id");
    return it != m.body.end() && it->is_number_integer() && it->get<std::int64_t>() == id;
  };
  im.lastMessage.reset();
  im.conn->send(MsgType::Request, Json{{"id", id}, {"method", method}, {"params", params}});
  const auto deadline = SteadyClock::now() + im.opts.requestTimeout;
  const bool inTime =
      im.runUntil([&] { return im.lastMessage || im.sessionError || im.closedReason; }, deadline);
  if (im.lastMessage) {
    const Json& body = im.lastMessage->body;
    try {
      if (getBool(body, "ok")) {
        auto it = body.find("result");
        return it == body.end() ? Json::object() : *it;
      }
      const Json& err = getObject(body, "error");
      std::vector<std::string> details;
      if (auto d = err.find("details"); d != err.end() && d->is_array())
        for (const auto& line : *d) details.push_back(line.is_string() ? line.get<std::string>() : line.dump());
      throw MasterError(optString(err, "code").value_or("error"),
                        optString(err, "message").value_or(""), std::move(details));
    } catch (const ProtocolError& e) {
      throw ConnectError(std::string("malformed response from master: ") + e.what());
    }
  }
  if (im.sessionError) {
    const std::string err = *im.sessionError;
    im.closeNow("master sent an error");
    im.loggedIn = false;
    throw ConnectError("master ended the session: " + err);
  }
  if (!inTime) {
    im.closeNow("request timed out");
    im.loggedIn = false;
    throw ConnectError("request timed out after " + formatSeconds(im.opts.requestTimeout));
  }
  const std::string reason = im.closedReason.value_or("closed");
  im.closeNow(reason);
  im.loggedIn = false;
  throw ConnectError("connection to " + im.address.toString() + " lost: " + reason);
}

std::optional<Json> MasterClient::nextEvents(std::chrono::milliseconds timeout) {
  connect();
  Impl& im = *impl_;
  if (im.events.empty())
    im.runUntil([&] { return !im.events.empty() || im.sessionError || im.closedReason; },
                SteadyClock::now() + timeout);
  if (!im.events.empty()) {
    Json e = std::move(im.events.front());
    im.events.pop_front();
    return e;
  }
  if (im.sessionError || im.closedReason) {
    const std::string reason = im.sessionError ? "master ended the session: " + *im.sessionError
                                               : "connection to " + im.address.toString() +
                                                     " lost: " + *im.closedReason;
    im.closeNow("connection lost");
    im.loggedIn = false;
    throw ConnectError(reason);
  }
  return std::nullopt;
}

}  // namespace bb::client
