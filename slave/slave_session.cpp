#include "slave/slave_session.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "slave/master_message.hpp"
#include "common/connection.hpp"
#include "common/master_address.hpp"
#include "common/output_payload.hpp"
#include "slave/process.hpp"

namespace bb {

std::string_view toString(SlaveState s) {
  switch (s) {
    case SlaveState::Idle: return "idle";
    case SlaveState::Connecting: return "connecting";
    case SlaveState::LoggingIn: return "logging in";
    case SlaveState::Ready: return "ready";
    case SlaveState::Draining: return "draining";
    case SlaveState::Backoff: return "backoff";
    case SlaveState::Stopping: return "stopping";
    case SlaveState::Stopped: return "stopped";
  }
  return "unknown";
}

namespace {
// Room for the Output frame's header and map around a chunk.
constexpr std::size_t kOutputOverhead = 256;
}  // namespace

SlaveSession::SlaveSession(boost::asio::io_context& io, Clock& clock, ChildReaper& reaper,
                           SlaveConfig config)
    : io_(io),
      clock_(clock),
      config_(std::move(config)),
      masters_(masterEntries(config_)),
      ctx_{io, clock, reaper, config_.basedir, std::chrono::seconds(config_.killGraceSeconds),
           currentEnvironment()},
      retryTimer_(clock.makeTimer()),
      connectTimer_(clock.makeTimer()),
      rng_(std::random_device{}()) {}

SlaveSession::~SlaveSession() {
  *alive_ = false;
  if (conn_) conn_->close("slave session destroyed");
  // RemoteCommand destructors SIGKILL whatever still runs.
}

void SlaveSession::setState(SlaveState s) {
  state_ = s;
  if (observer_) observer_(s);
}

std::chrono::milliseconds SlaveSession::backoffDelay(int failures, std::chrono::milliseconds min,
                                                     std::chrono::milliseconds max) {
  std::chrono::milliseconds d = min;
  for (int i = 1; i < failures && d < max; ++i) d *= 2;
  return std::min(d, max);
}

void SlaveSession::start() {
  if (state_ != SlaveState::Idle) return;
  connect();
}

void SlaveSession::connect() {
  ++attempts_;
  std::uint64_t gen = ++generation_;
  setState(SlaveState::Connecting);
  const SlaveMasterEntry& master = masters_[current_];
  if (masters_.size() > 1)
    spdlog::info("connecting to master at {} (master {} of {}, attempt {})",
                 MasterAddress{master.host, master.port}.toString(), current_ + 1, masters_.size(),
                 attempts_);
  else
    spdlog::info("connecting to master at {} (attempt {})",
                 MasterAddress{master.host, master.port}.toString(), attempts_);
  ConnectionOptions opts;
  opts.maxFrame = config_.maxFrame;
  opts.heartbeatInterval = config_.heartbeatInterval;
  opts.heartbeatTimeout = config_.heartbeatTimeout;
  if (!tlsPerMaster_.empty()) opts.tls = tlsPerMaster_[std::min(current_, tlsPerMaster_.size() - 1)];
  // The whole connect + login must finish within the heartbeat timeout.
  connectTimer_->start(config_.heartbeatTimeout, [this, gen] {
    if (gen != generation_) return;
    std::string reason = "no answer from master within " +
                         std::to_string(config_.heartbeatTimeout.count()) + " s";
    if (auto c = conn_) {
      c->close(reason);  // onClose retries
    } else {
      ++generation_;  // the connect still pending will be ignored
      retryLater(reason);
    }
  });
  Connection::connect(io_, master.host, master.port, opts,
                      [this, gen, alive = alive_](std::shared_ptr<Connection> conn,
                                                  const std::string& error) {
                        if (!*alive || gen != generation_ || state_ == SlaveState::Stopping ||
                            state_ == SlaveState::Stopped) {
                          if (conn) conn->close("connection attempt abandoned");
                          return;
                        }
                        if (!conn) return retryLater(error);
                        onConnected(std::move(conn));
                      });
}

void SlaveSession::onConnected(std::shared_ptr<Connection> conn) {
  conn_ = std::move(conn);
  login_.emplace("slave", config_.name, config_.password, conn_->channelBinding());
  setState(SlaveState::LoggingIn);
  std::weak_ptr<Connection> weak = conn_;
  auto alive = alive_;
  conn_->start(
      [this, alive, weak](Message&& m) {
        if (!*alive || weak.lock() != conn_) return;
        onMessage(std::move(m));
      },
      [this, alive, weak](const std::string& reason) {
        if (!*alive) return;
        auto c = weak.lock();
        if (!c || c != conn_) return;
        onClose(reason);
      });
  conn_->send(login_->hello());
}

void SlaveSession::onMessage(Message&& m) {
  try {
    if (state_ == SlaveState::LoggingIn)
      onLoginMessage(m);
    else if (loggedIn())
      onSessionMessage(m);
  } catch (const ProtocolError& e) {
    spdlog::warn("bad {} from master: {}", toString(m.type), e.what());
    if (auto c = conn_) c->sendErrorAndClose(kErrProtocol, std::string(toString(m.type)) + ": " + e.what());
  }
}

void SlaveSession::onLoginMessage(const Message& m) {
  ClientLogin::Step step = login_->onMessage(m);
  switch (step.kind) {
    case ClientLogin::Step::Wait: return;
    case ClientLogin::Step::Send: conn_->send(step.reply); return;
    case ClientLogin::Step::Done: onWelcome(step.welcome); return;
    case ClientLogin::Step::Failed: {
      std::string reason = m.type == MsgType::Error ? "login refused by master: " + step.error
                                                    : "login failed: " + step.error;
      auto c = conn_;  // close() may run onClose, which drops conn_
      if (step.hasReply) c->send(step.reply);
      c->close(reason);
      return;
    }
  }
}

void SlaveSession::onWelcome(const Json& welcome) {
  connectTimer_->cancel();
  failures_ = 0;
  masterName_ = optString(welcome, "master").value_or("?");
  auto interval = optInt(welcome, "heartbeat_interval_ms");
  auto timeout = optInt(welcome, "heartbeat_timeout_ms");
  if (interval && timeout && *interval > 0 && *timeout > *interval)
    conn_->setHeartbeat(std::chrono::milliseconds(*interval), std::chrono::milliseconds(*timeout));
  if (auto maxFrame = optInt(welcome, "max_frame"); maxFrame && *maxFrame >= 1024) {
    conn_->setMaxFrame(static_cast<std::uint32_t>(std::min<std::int64_t>(*maxFrame, 1ll << 30)));
    // Our Output frames must fit the master's limit too.
    auto limit = static_cast<std::size_t>(*maxFrame);
    ctx_.maxChunk = std::min<std::size_t>(RemoteCommand::kMaxChunk,
                                          limit > 2 * kOutputOverhead ? limit - kOutputOverhead
                                                                      : limit / 2);
  }
  setState(SlaveState::Ready);
  spdlog::info("logged in to master '{}' at {} as slave '{}'", masterName_, conn_->peer(),
               config_.name);
  conn_->send(MsgType::SlaveInfo, slaveInfo());
}

Json SlaveSession::slaveInfo() const {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "unknown");
  std::string os = "unknown";
  struct utsname u {};
  if (::uname(&u) == 0) os = std::string(u.sysname) + " " + u.release + " " + u.machine;
  unsigned cpus = std::thread::hardware_concurrency();
  return {{"host", host},       {"os", os},
          {"cpus", cpus ? cpus : 1}, {"version", kVersion},
          {"basedir", config_.basedir}};
}

void SlaveSession::onSessionMessage(const Message& m) {
  const MasterMessage msg = readMasterMessage(m);
  switch (msg.type) {
    case MsgType::Heartbeat: return;
    case MsgType::Ping: conn_->send(MsgType::Pong, {{"id", msg.id}}); return;
    case MsgType::RunCommand: onRunCommand(msg); return;
    case MsgType::Credit: {
      auto it = commands_.find(msg.id);
      // Credit for a command that just finished is normal: ignore it.
      if (it != commands_.end()) it->second->addCredit(msg.bytes);
      return;
    }
    case MsgType::FileData: {
      auto it = commands_.find(msg.id);
      // Data for a command that just failed is normal: dropped.
      if (it != commands_.end()) it->second->onFileData(msg.data, msg.eof);
      return;
    }
    case MsgType::Interrupt: {
      auto it = commands_.find(msg.id);
      if (it == commands_.end()) {
        spdlog::info("interrupt for command {}, which is not running", msg.id);
        return;
      }
      spdlog::info("command {}: interrupted by master: {}", msg.id, peerText(msg.text));
      it->second->interrupt(msg.text);
      return;
    }
    case MsgType::ShutdownReady:
      if (state_ != SlaveState::Draining) {
        // The master drained this slave on its own (a graceful stop from
        // the web): it says who, and the slave stops as if it had asked.
        if (msg.text.empty()) throw ProtocolError("ShutdownReady without a ShutdownRequest or a reason");
        spdlog::info("master '{}' stops this slave gracefully: {}", masterName_, peerText(msg.text));
        if (!stopDone_) stopDone_ = masterStopDone_;
      }
      onShutdownReady();
      return;
    case MsgType::Error:
      masterError_ = "master said " + msg.text;
      spdlog::warn("{}", masterError_);
      return;  // the master closes next
    default:
      throw ProtocolError("unexpected message from master");
  }
}

void SlaveSession::onRunCommand(const MasterMessage& msg) {
  const std::int64_t id = msg.id;
  if (commands_.count(id)) throw ProtocolError("command id " + std::to_string(id) + " is already running");
  std::unique_ptr<RemoteCommand> cmd;
  try {
    cmd = RemoteCommand::create(ctx_, *this, id, msg.kind, msg.bytes, msg.args);
  } catch (const ProtocolError& e) {
    // A bad command fails that step, not the whole session.
    spdlog::warn("command {}: cannot run: {}", id, e.what());
    conn_->send(MsgType::CommandDone, {{"cmd_id", id},      {"rc", -1},           {"signal", 0},
                                       {"timed_out", false}, {"interrupted", false},
                                       {"error", e.what()},  {"props", Json::object()}});
    return;
  }
  spdlog::info("command {}: starting {}", id, msg.kind);
  RemoteCommand* raw = cmd.get();
  commands_[id] = std::move(cmd);
  raw->start();
}

void SlaveSession::sendOutput(std::int64_t cmdId, Stream stream, std::string_view data) {
  if (!conn_ || !loggedIn()) return;
  encodeOutputPayload(cmdId, static_cast<int>(stream), data, outputPayload_);
  conn_->sendPayload(MsgType::Output, outputPayload_.data(), outputPayload_.size());
}

void SlaveSession::sendFileCredit(std::int64_t cmdId, std::int64_t bytes) {
  if (!conn_ || !loggedIn()) return;
  conn_->send(MsgType::FileCredit, Json{{"cmd_id", cmdId}, {"bytes", bytes}});
}

void SlaveSession::sendDone(std::int64_t cmdId, const Json& body) {
  spdlog::info("command {}: done, rc {}{}", cmdId, body.value("rc", -1),
               body.value("error", std::string()).empty() ? "" : ", " + body.value("error", std::string()));
  if (!conn_ || !loggedIn()) return;
  conn_->send(MsgType::CommandDone, body);
}

void SlaveSession::commandComplete(RemoteCommand* cmd) {
  // Called from inside the command: destroy it once its call stack is gone.
  boost::asio::post(io_, [this, cmd, alive = alive_] {
    if (!*alive) return;
    for (auto it = commands_.begin(); it != commands_.end(); ++it) {
      if (it->second.get() == cmd) {
        commands_.erase(it);
        return maybeFinishStop();
      }
    }
    auto it = std::find_if(dying_.begin(), dying_.end(), [cmd](const auto& p) { return p.get() == cmd; });
    if (it != dying_.end()) dying_.erase(it);
    maybeFinishStop();
  });
}

void SlaveSession::killAllCommands(const std::string& reason) {
  std::vector<RemoteCommand*> detached;
  for (auto& [id, cmd] : commands_) {
    detached.push_back(cmd.get());
    dying_.push_back(std::move(cmd));
  }
  commands_.clear();
  if (!detached.empty())
    spdlog::warn("{}: killing {} running command(s)", reason, detached.size());
  for (RemoteCommand* cmd : detached) cmd->detach(reason);
}

void SlaveSession::onClose(const std::string& reason) {
  auto keep = conn_;
  conn_.reset();
  std::string why = masterError_.empty() ? reason : masterError_ + " (" + reason + ")";
  masterError_.clear();
  login_.reset();
  connectTimer_->cancel();
  if (loggedIn()) spdlog::warn("lost connection to master '{}': {}", masterName_, why);
  killAllCommands("connection to master lost");
  if (state_ == SlaveState::Draining) {
    // The master ends those builds as RETRY; there is nothing left to finish.
    spdlog::info("graceful stop: the connection is gone; stopping without reconnecting");
    setState(SlaveState::Stopping);
  }
  if (state_ == SlaveState::Stopping || state_ == SlaveState::Stopped) return maybeFinishStop();
  retryLater(why);
}

void SlaveSession::retryLater(const std::string& reason) {
  connectTimer_->cancel();  // this attempt is over, whichever way it ended
  ++failures_;
  lastFailure_ = reason;
  auto base = backoffDelay(failures_, config_.reconnectMin, config_.reconnectMax);
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  lastDelay_ = std::chrono::milliseconds(
      std::max<long long>(1, static_cast<long long>(base.count() * jitter(rng_))));
  setState(SlaveState::Backoff);
  if (masters_.size() > 1) {
    // A cluster: the next master may be up while this one is not.
    current_ = (current_ + 1) % masters_.size();
    spdlog::warn("attempt {} failed: {}; trying master {} in {:.1f} s", attempts_, reason,
                 MasterAddress{masters_[current_].host, masters_[current_].port}.toString(),
                 lastDelay_.count() / 1000.0);
  } else {
    spdlog::warn("attempt {} failed: {}; retrying in {:.1f} s", attempts_, reason,
                 lastDelay_.count() / 1000.0);
  }
  retryTimer_->start(lastDelay_, [this] { connect(); });
}

void SlaveSession::stop(std::function<void()> done) {
  if (state_ == SlaveState::Stopping || state_ == SlaveState::Stopped) return;
  stopDone_ = std::move(done);
  ++generation_;  // a pending connect is abandoned
  retryTimer_->cancel();
  connectTimer_->cancel();
  setState(SlaveState::Stopping);
  // 1. Kill every command's process tree (their output goes nowhere now).
  killAllCommands("slave shutting down");
  // 2. Tell the master and close the connection.
  if (conn_) {
    auto c = std::move(conn_);
    login_.reset();
    c->sendErrorAndClose(kErrShuttingDown, "slave '" + config_.name + "' is shutting down");
  }
  // 3. Report once every tree is dead.
  maybeFinishStop();
}

void SlaveSession::stopGracefully(std::function<void()> done) {
  if (state_ == SlaveState::Stopping || state_ == SlaveState::Stopped) return;
  if (state_ == SlaveState::Draining) {
    spdlog::info("graceful stop already requested; waiting for master '{}' to finish this "
                 "slave's builds",
                 masterName_);
    return;
  }
  if (state_ != SlaveState::Ready) {
    spdlog::info("graceful stop: not logged in to a master ({}); stopping now", toString(state_));
    return stop(std::move(done));
  }
  stopDone_ = std::move(done);
  setState(SlaveState::Draining);
  spdlog::info("graceful stop: asking master '{}' to finish this slave's builds and start no new "
               "ones ({} command(s) running now)",
               masterName_, commands_.size());
  conn_->send(MsgType::ShutdownRequest, Json::object());
}

void SlaveSession::onShutdownReady() {
  if (!commands_.empty())  // the master says no build is left: these are strays
    spdlog::warn("master '{}' says this slave has no builds left, but {} command(s) still run",
                 masterName_, commands_.size());
  spdlog::info("master '{}' says this slave has no builds left; disconnecting", masterName_);
  // 1. Nothing will reconnect; 2. kill strays; 3. close; 4. report.
  ++generation_;
  retryTimer_->cancel();
  connectTimer_->cancel();
  setState(SlaveState::Stopping);
  killAllCommands("graceful stop");
  if (conn_) {
    auto c = std::move(conn_);
    login_.reset();
    c->close("graceful stop: no builds left");
  }
  maybeFinishStop();
}

void SlaveSession::maybeFinishStop() {
  if (state_ != SlaveState::Stopping || !commands_.empty() || !dying_.empty()) return;
  setState(SlaveState::Stopped);
  spdlog::info("slave stopped");
  if (stopDone_) {
    auto fn = std::move(stopDone_);
    boost::asio::post(io_, [fn = std::move(fn)] { fn(); });
  }
}

}  // namespace bb
