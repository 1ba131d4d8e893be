#include "master/port/master_port.hpp"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/login.hpp"
#include "master/slaves/slave_registry.hpp"
#include "master/port/client_session.hpp"
#include "master/port/event_fanout.hpp"

namespace bb {

MasterPort::MasterPort(boost::asio::io_context& io, Clock& clock, SlaveRegistry& slaves,
                       RpcHandler& rpc, EventBus& events,
                       std::function<const MasterConfig&()> config)
    : io_(io),
      clock_(clock),
      slaves_(slaves),
      rpc_(rpc),
      events_(events),
      config_(std::move(config)),
      fanout_(std::make_unique<EventFanout>(events, clock)) {}

MasterPort::~MasterPort() = default;

ConnectionOptions MasterPort::connectionOptions() const {
  const auto& m = config_().master;
  ConnectionOptions o;
  o.maxFrame = m.maxFrame;
  o.heartbeatInterval = m.heartbeatInterval;
  o.heartbeatTimeout = m.heartbeatTimeout;
  o.tls = tls_;
  return o;
}

std::shared_ptr<TlsContext> MasterPort::makeTls(const std::string& dir, const MasterSection& m) {
  if (!m.tls) return nullptr;
  auto resolve = [&dir](const std::string& f) {
    const std::filesystem::path p(f);
    return p.is_absolute() ? p.string() : (std::filesystem::path(dir) / p).string();
  };
  return TlsContext::forServer(resolve(m.tlsCert), resolve(m.tlsKey));
}

void MasterPort::setTls(std::shared_ptr<TlsContext> tls) {
  const std::string before = tls_ ? tls_->fingerprint() : "";
  tls_ = std::move(tls);
  if (!listener_) return;
  listener_->setOptions(connectionOptions());
  if (tls_ && tls_->fingerprint() != before)
    spdlog::info("TLS certificate replaced: new connections get {}", tls_->fingerprint());
}

void MasterPort::listen() {
  const auto& m = config_().master;
  listener_ = std::make_unique<Listener>(io_, m.host, m.slavePort, connectionOptions(),
                                         [this](std::shared_ptr<Connection> c) { onAccept(c); });
  listener_->setRejectHandler([](const std::string& peer, const std::string& why) {
    spdlog::warn("connection from {} refused: {}", peer, why);
  });
  if (tls_)
    spdlog::info("listening for slaves and clients on {}:{} (TLS, certificate {})", m.host, port(),
                 tls_->fingerprint());
  else
    spdlog::info("listening for slaves and clients on {}:{} (plain TCP: tls is false)", m.host,
                 port());
}

std::uint16_t MasterPort::port() const { return listener_ ? listener_->port() : 0; }

void MasterPort::stopAccepting() {
  if (listener_) listener_->close();
}

void MasterPort::closeClients(const std::string& message) {
  auto clients = clients_;
  for (auto& c : clients) c->close("shutting_down", message);
}

void MasterPort::onAccept(std::shared_ptr<Connection> conn) {
  struct Pending {
    std::unique_ptr<ServerLogin> login;
    std::unique_ptr<Timer> deadline;
    bool done = false;
  };
  auto lookup = [this](const std::string& role, const std::string& name) -> std::optional<std::string> {
    const auto& cfg = config_();
    if (role == "slave") {
      if (const auto* s = cfg.findSlave(name)) return s->passwordVerifier;
    } else if (role == "client") {
      if (const auto* u = cfg.findUser(name)) return u->passwordVerifier;
    }
    return std::nullopt;
  };
  const auto& m = config_().master;
  Json extras{{"master", m.name},
              {"heartbeat_interval_ms", std::chrono::milliseconds(m.heartbeatInterval).count()},
              {"heartbeat_timeout_ms", std::chrono::milliseconds(m.heartbeatTimeout).count()},
              {"max_frame", m.maxFrame}};
  auto p = std::make_shared<Pending>();
  p->login = std::make_unique<ServerLogin>(lookup, extras, conn->channelBinding());
  p->deadline = clock_.makeTimer();
  std::weak_ptr<Connection> weak = conn;
  p->deadline->start(kLoginDeadline, [weak] {
    if (auto c = weak.lock())
      c->sendErrorAndClose("protocol_error", "login not completed within 15 s");
  });
  const std::string peer = conn->peer();
  conn->start(
      [this, p, weak, peer](Message&& msg) {
        auto c = weak.lock();
        if (!c || p->done) return;
        auto step = p->login->onMessage(msg);
        switch (step.kind) {
          case ServerLogin::Step::Wait:
            return;
          case ServerLogin::Step::Send:
            c->send(step.reply);
            return;
          case ServerLogin::Step::Failed:
            p->done = true;
            p->deadline->cancel();
            spdlog::warn("login refused for {} '{}' from {}: {}",
                         step.role.empty() ? "peer" : peerText(step.role, 20), peerText(step.name),
                         peer, step.error);
            if (step.hasReply)
              c->sendErrorAndClose(step.reply.body.value("code", std::string("protocol_error")),
                                   step.reply.body.value("message", step.error));
            else
              c->close(step.error);
            return;
          case ServerLogin::Step::Done: {
            p->done = true;
            p->deadline->cancel();
            if (step.role == "slave") {
              // The Welcome waits until the registry admits the slave (a
              // duplicate login is checked first), so a refused peer gets
              // only the Error.
              slaves_.attach(step.name, c, config_().master.pingTimeout,
                             [c, peer, welcome = step.reply](const std::string& err) {
                               if (err.empty()) {
                                 c->send(welcome);
                                 return;
                               }
                               spdlog::warn("slave login from {} refused: {}", peer, err);
                               c->sendErrorAndClose("duplicate_slave", err);
                             });
            } else {
              c->send(step.reply);
              spdlog::info("client {} logged in from {}", peerText(step.name), peer);
              startClient(c, step.name);
            }
            return;
          }
        }
      },
      [p, peer](const std::string& reason) {
        if (!p->done) spdlog::info("connection from {} closed during login: {}", peer, reason);
        p->deadline->cancel();
      });
}

void MasterPort::startClient(std::shared_ptr<Connection> conn, const std::string& user) {
  auto session = std::make_shared<ClientSession>(std::move(conn), user, rpc_, events_, *fanout_, clock_);
  clients_.insert(session);
  // The set holds the only strong reference; it is dropped once closed.
  session->start([this](ClientSession& s) { clients_.erase(s.shared_from_this()); });
}

}  // namespace bb
