#include "master/slaves/remote_slave.hpp"

#include <spdlog/spdlog.h>

namespace bb {

RemoteSlave::RemoteSlave(std::string name, std::shared_ptr<Connection> conn, Clock& clock)
    : name_(std::move(name)), conn_(std::move(conn)), clock_(clock) {}

RemoteSlave::~RemoteSlave() = default;

std::int64_t RemoteSlave::startCommand(const std::string& kind, Json args, CommandHandlers h) {
  const std::int64_t id = nextCmd_++;
  commands_[id] = std::move(h);
  conn_->send(MsgType::RunCommand, Json{{"cmd_id", id},
                                        {"kind", kind},
                                        {"credit", kInitialCredit},
                                        {"args", std::move(args)}});
  return id;
}

void RemoteSlave::credit(std::int64_t cmdId, std::int64_t bytes) {
  if (bytes <= 0 || !connected_ || !commands_.count(cmdId)) return;
  conn_->send(MsgType::Credit, Json{{"cmd_id", cmdId}, {"bytes", bytes}});
}

void RemoteSlave::interrupt(std::int64_t cmdId, const std::string& reason) {
  if (!commands_.count(cmdId)) return;
  conn_->send(MsgType::Interrupt, Json{{"cmd_id", cmdId}, {"reason", reason}});
}

void RemoteSlave::ping(std::chrono::milliseconds timeout, std::function<void(bool)> done) {
  if (!connected_) {
    done(false);
    return;
  }
  const std::int64_t id = nextPing_++;
  auto& p = pings_[id];
  p.done = std::move(done);
  p.timer = clock_.makeTimer();
  p.timer->start(timeout, [this, id] {
    auto it = pings_.find(id);
    if (it == pings_.end()) return;
    auto cb = std::move(it->second.done);
    pings_.erase(it);
    cb(false);
  });
  conn_->send(MsgType::Ping, Json{{"id", id}});
}

std::string RemoteSlave::onMessage(Message&& m) {
  try {
    switch (m.type) {
      case MsgType::Heartbeat:
        return "";
      case MsgType::SlaveInfo:
        info_ = std::move(m.body);
        return "";
      case MsgType::Pong: {
        auto it = pings_.find(getInt(m.body, "id"));
        if (it == pings_.end()) return "";  // answered after its deadline
        auto cb = std::move(it->second.done);
        pings_.erase(it);
        cb(true);
        return "";
      }
      case MsgType::Output: {
        const std::int64_t id = getInt(m.body, "cmd_id");
        const int stream = static_cast<int>(getInt(m.body, "stream"));
        auto dit = m.body.find("data");
        if (dit == m.body.end() || !dit->is_binary())
          return "Output field 'data' must be binary";
        if (stream < 0 || stream > 2) return "Output stream must be 0, 1 or 2";
        auto it = commands_.find(id);
        if (it == commands_.end()) return "";  // command already finished or abandoned
        const auto& bin = dit->get_binary();
        std::string_view data(reinterpret_cast<const char*>(bin.data()), bin.size());
        if (it->second.onOutput) it->second.onOutput(stream, data);
        return "";
      }
      case MsgType::CommandDone: {
        const std::int64_t id = getInt(m.body, "cmd_id");
        auto it = commands_.find(id);
        if (it == commands_.end()) return "";
        CommandOutcome o;
        o.rc = static_cast<int>(getInt(m.body, "rc"));
        o.signal = static_cast<int>(optInt(m.body, "signal").value_or(0));
        o.timedOut = m.body.value("timed_out", false);
        o.interrupted = m.body.value("interrupted", false);
        o.error = optString(m.body, "error").value_or("");
        if (auto p = m.body.find("props"); p != m.body.end() && p->is_object()) o.props = *p;
        auto h = std::move(it->second);
        commands_.erase(it);
        if (h.onDone) h.onDone(o);
        return "";
      }
      case MsgType::ShutdownRequest:
        // Repeats are harmless; the registry acts on the first.
        draining_ = true;
        return "";
      case MsgType::Error:
        return "slave sent error: " + m.body.value("code", std::string("?")) + ": " +
               m.body.value("message", std::string());
      default:
        return std::string("unexpected ") + std::string(toString(m.type)) + " from a slave";
    }
  } catch (const ProtocolError& e) {
    return std::string(toString(m.type)) + ": " + e.what();
  }
}

void RemoteSlave::onDisconnected(const std::string& reason) {
  if (!connected_) return;
  connected_ = false;
  auto pings = std::move(pings_);
  pings_.clear();
  for (auto& [id, p] : pings) p.done(false);
  auto cmds = std::move(commands_);
  commands_.clear();
  for (auto& [id, h] : cmds) {
    CommandOutcome o;
    o.lost = true;
    o.error = "slave " + name_ + " disconnected: " + reason;
    if (h.onDone) h.onDone(o);
  }
}

bool RemoteSlave::sendShutdownReady() {
  if (!connected_ || toldReady_) return false;
  toldReady_ = true;
  conn_->send(MsgType::ShutdownReady, Json::object());
  return true;
}

void RemoteSlave::disconnect(const std::string& code, const std::string& message) {
  conn_->sendErrorAndClose(code, message);
}

}  // namespace bb
