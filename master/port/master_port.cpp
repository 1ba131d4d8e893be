#include "master/port/master_port.hpp"

#include <spdlog/spdlog.h>

#include "common/login.hpp"
#include "master/slaves/slave_registry.hpp"
#include "master/port/client_session.hpp"

namespace bb {

MasterPort::MasterPort(boost::asio::io_context& io, Clock& clock, SlaveRegistry& slaves,
                       RpcHandler& rpc, EventBus& events,
                       std::function<const MasterConfig&()> config)
    : io_(io), clock_(clock), slaves_(slaves), rpc_(rpc), events_(events), config_(std::move(config)) {}

MasterPort::~MasterPort() = default;

ConnectionOptions MasterPort::connectionOptions() const {
  const auto& m = config_().master;
  ConnectionOptions o;
  o.maxFrame = m.maxFrame;
  o.heartbeatInterval = m.heartbeatInterval;
  o.heartbeatTimeout = m.heartbeatTimeout;
  return o;
}

void MasterPort::listen() {
  const auto& m = config_().master;
  listener_ = std::make_unique<Listener>(io_, m.host, m.slavePort, connectionOptions(),
                                         [this](std::shared_ptr<Connection> c) { onAccept(c); });
  spdlog::info("listening for slaves and clients on {}:{}", m.host, port());
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
  p->login = std::make_unique<ServerLogin>(lookup, extras);
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
  auto session = std::make_shared<ClientSession>(std::move(conn), user, rpc_, events_, clock_);
  clients_.insert(session);
  // The set holds the only strong reference; it is dropped once closed.
  session->start([this](ClientSession& s) { clients_.erase(s.shared_from_this()); });
}

}  // namespace bb
