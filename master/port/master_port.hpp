#pragma once
// The master's one TCP port: every connection logs in (SCRAM) and becomes
// either a slave session (handed to the SlaveRegistry) or a client session
// (master/port/client_session.hpp). With master.tls (the default) every
// connection is TLS first; the SCRAM login is then bound to the
// certificate (channel binding tls-server-end-point).
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "common/connection.hpp"
#include "common/event_loop.hpp"
#include "config/master_config.hpp"

namespace boost::asio {
class io_context;
}

namespace bb {

class SlaveRegistry;
class RpcHandler;
class ClientSession;
class EventBus;
class EventFanout;

class MasterPort {
 public:
  static constexpr std::chrono::seconds kLoginDeadline{15};

  MasterPort(boost::asio::io_context& io, Clock& clock, SlaveRegistry& slaves, RpcHandler& rpc,
             EventBus& events, std::function<const MasterConfig&()> config);
  ~MasterPort();

  // The TLS context master.tls/tls_cert/tls_key ask for (files relative to
  // `dir`), null with `tls: false`. Throws TlsError naming the file.
  static std::shared_ptr<TlsContext> makeTls(const std::string& dir, const MasterSection& m);
  // Connections accepted from now on use `tls` (listen() and reconfig:
  // a replaced certificate applies without a restart).
  void setTls(std::shared_ptr<TlsContext> tls);
  const std::shared_ptr<TlsContext>& tls() const { return tls_; }

  // Binds host:port from the config. Throws std::runtime_error on failure.
  void listen();
  std::uint16_t port() const;
  // Stop accepting new connections (shutdown step 1).
  void stopAccepting();
  // Closes client connections (shutdown).
  void closeClients(const std::string& message);
  ConnectionOptions connectionOptions() const;

 private:
  void onAccept(std::shared_ptr<Connection> conn);
  void startClient(std::shared_ptr<Connection> conn, const std::string& user);

  boost::asio::io_context& io_;
  Clock& clock_;
  SlaveRegistry& slaves_;
  RpcHandler& rpc_;
  EventBus& events_;
  std::function<const MasterConfig&()> config_;
  std::shared_ptr<TlsContext> tls_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<EventFanout> fanout_;  // outlives the sessions, which leave it
  std::set<std::shared_ptr<ClientSession>> clients_;
};

}  // namespace bb
