#pragma once
// The slave's life with its master: connect, log in (SCRAM), send
// SlaveInfo, serve RunCommand / Interrupt / Credit / Ping, and on any
// disconnect kill every running command's tree and reconnect with
// exponential backoff (reconnect_min .. reconnect_max, doubling, +-25%
// jitter). A refused login is backed off the same way.
//
// Graceful stop (stopGracefully): the slave sends ShutdownRequest and
// becomes Draining; it still runs what the master sends for the builds it
// has, the master starts no new ones there, and ShutdownReady (no builds
// left) ends the session: close, no reconnect, Stopped.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "common/tls_context.hpp"
#include "common/login.hpp"
#include "common/version.hpp"
#include "config/slave_config.hpp"
#include "slave/command.hpp"

namespace bb {

class Connection;

enum class SlaveState { Idle, Connecting, LoggingIn, Ready, Draining, Backoff, Stopping, Stopped };
std::string_view toString(SlaveState s);

class SlaveSession : public CommandSink {
 public:
  static constexpr const char* kVersion = kProjectVersion;

  // `config.basedir` must be absolute. The reaper and clock outlive us.
  SlaveSession(boost::asio::io_context& io, Clock& clock, ChildReaper& reaper,
               SlaveConfig config);
  ~SlaveSession() override;
  SlaveSession(const SlaveSession&) = delete;
  SlaveSession& operator=(const SlaveSession&) = delete;

  // TLS for the connections from now on (null: plain TCP); the slave's
  // main sets it from config.tls before start(). A master whose
  // certificate does not match is refused like an unreachable one (logged,
  // retried with back-off).
  void setTls(std::shared_ptr<TlsContext> tls) { tlsPerMaster_.assign(1, std::move(tls)); }
  // Per master of config.masters (same order): each master's own pin. A
  // list shorter than the masters uses its last entry for the rest.
  void setTls(std::vector<std::shared_ptr<TlsContext>> perMaster) { tlsPerMaster_ = std::move(perMaster); }

  // Connects, and keeps reconnecting until stop().
  void start();
  // Kills every running command's tree, closes the connection, and calls
  // `done` (on the io thread) once every tree is gone. Also cuts a
  // graceful stop short.
  void stop(std::function<void()> done);
  // Finishes the builds the slave has, then stops and calls `done`: sends
  // ShutdownRequest and waits for the master's ShutdownReady. Not logged
  // in to a master (connecting, backing off), it stops at once; if the
  // connection is lost while draining, it stops without reconnecting.
  void stopGracefully(std::function<void()> done);
  // What runs (on the io thread) once the session stopped because the
  // master stopped this slave gracefully without its asking (a ShutdownReady
  // with `reason`, after a `stop` from the web): the slave then exits 0.
  void onStoppedByMaster(std::function<void()> done) { masterStopDone_ = std::move(done); }

  SlaveState state() const { return state_; }
  std::size_t runningCommands() const { return commands_.size() + dying_.size(); }
  // How many connection attempts have been made.
  int attempts() const { return attempts_; }
  // The master tried last (or now), as an index into masterEntries(config):
  // with several masters a failed attempt or a lost connection moves on to
  // the next one, round robin.
  std::size_t currentMaster() const { return current_; }
  // The delay chosen for the last backoff, and why we backed off.
  std::chrono::milliseconds lastDelay() const { return lastDelay_; }
  const std::string& lastFailure() const { return lastFailure_; }
  // Test hook: called after every state change.
  void setStateObserver(std::function<void(SlaveState)> fn) { observer_ = std::move(fn); }

  // The delay for the n-th consecutive failure (n >= 1) before jitter.
  static std::chrono::milliseconds backoffDelay(int failures, std::chrono::milliseconds min,
                                                std::chrono::milliseconds max);

  // CommandSink
  void sendOutput(std::int64_t cmdId, Stream stream, std::string_view data) override;
  void sendDone(std::int64_t cmdId, const Json& body) override;
  void commandComplete(RemoteCommand* cmd) override;
  void sendFileCredit(std::int64_t cmdId, std::int64_t bytes) override;

 private:
  void setState(SlaveState s);
  void connect();
  void onConnected(std::shared_ptr<Connection> conn);
  void onMessage(Message&& m);
  void onLoginMessage(const Message& m);
  void onWelcome(const Json& welcome);
  void onSessionMessage(const Message& m);
  void onRunCommand(const struct MasterMessage& msg);
  void onClose(const std::string& reason);
  void retryLater(const std::string& reason);
  void killAllCommands(const std::string& reason);
  // The master said ShutdownReady: close without reconnecting.
  void onShutdownReady();
  bool loggedIn() const { return state_ == SlaveState::Ready || state_ == SlaveState::Draining; }
  void maybeFinishStop();
  Json slaveInfo() const;

  boost::asio::io_context& io_;
  Clock& clock_;
  SlaveConfig config_;
  std::vector<SlaveMasterEntry> masters_;  // masterEntries(config_), never empty
  std::size_t current_ = 0;
  std::vector<std::shared_ptr<TlsContext>> tlsPerMaster_;
  CommandContext ctx_;
  SlaveState state_ = SlaveState::Idle;
  std::shared_ptr<Connection> conn_;
  std::optional<ClientLogin> login_;
  std::string masterName_;
  std::string masterError_;  // an Error received before the master closes
  std::unique_ptr<Timer> retryTimer_;
  std::unique_ptr<Timer> connectTimer_;  // deadline for connect + login
  std::map<std::int64_t, std::unique_ptr<RemoteCommand>> commands_;
  std::vector<std::unique_ptr<RemoteCommand>> dying_;  // detached, tree being killed
  int attempts_ = 0;
  int failures_ = 0;  // consecutive, reset by a Welcome
  std::chrono::milliseconds lastDelay_{0};
  std::string lastFailure_;
  std::vector<std::uint8_t> outputPayload_;  // sendOutput's body, reused
  std::uint64_t generation_ = 0;  // ignores completions of abandoned attempts
  std::function<void()> stopDone_;
  std::function<void()> masterStopDone_;
  std::function<void(SlaveState)> observer_;
  std::mt19937 rng_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bb
