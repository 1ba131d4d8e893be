#include "master/slaves/remote_slave.hpp"

#include <algorithm>
#include <climits>

#include <spdlog/spdlog.h>

namespace bb {

RemoteSlave::RemoteSlave(std::string name, std::shared_ptr<Connection> conn, Clock& clock)
    : name_(std::move(name)), conn_(std::move(conn)), clock_(clock) {}

RemoteSlave::~RemoteSlave() = default;

std::int64_t RemoteSlave::startCommand(const std::string& kind, Json args, CommandHandlers h) {
  const std::int64_t id = nextCmd_++;
  commands_[id] = RunningCommand{std::move(h), static_cast<std::int64_t>(kInitialCredit)};
  conn_->send(MsgType::RunCommand, Json{{"cmd_id", id},
                                        {"kind", kind},
                                        {"credit", kInitialCredit},
                                        {"args", std::move(args)}});
  return id;
}

void RemoteSlave::credit(std::int64_t cmdId, std::int64_t bytes) {
  auto it = commands_.find(cmdId);
  if (bytes <= 0 || !connected_ || it == commands_.end()) return;
  it->second.window += bytes;
  conn_->send(MsgType::Credit, Json{{"cmd_id", cmdId}, {"bytes", bytes}});
}

bool RemoteSlave::sendFileData(std::int64_t cmdId, std::string_view data, bool eof) {
  if (!connected_ || !commands_.count(cmdId) || data.size() > kMaxOutputChunk) return false;
  conn_->send(MsgType::FileData,
              Json{{"cmd_id", cmdId},
                   {"data", Json::binary(std::vector<std::uint8_t>(data.begin(), data.end()))},
                   {"eof", eof}});
  return true;
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
    if (!hasInfo_ && m.type != MsgType::SlaveInfo && m.type != MsgType::Heartbeat &&
        m.type != MsgType::Error)
      return "expected SlaveInfo as the first message after Welcome, got " +
             std::string(toString(m.type));
    switch (m.type) {
      case MsgType::Heartbeat:
        return "";
      case MsgType::SlaveInfo:
        return onSlaveInfo(m.body);
      case MsgType::Pong: {
        auto it = pings_.find(getInt(m.body, "id"));
        if (it == pings_.end()) return "";  // answered after its deadline
        auto cb = std::move(it->second.done);
        pings_.erase(it);
        cb(true);
        return "";
      }
      case MsgType::Output:
        return onOutput(m.body);
      case MsgType::CommandDone:
        return onCommandDone(m.body);
      case MsgType::FileCredit:
        return onFileCredit(m.body);
      case MsgType::ShutdownRequest:
        // Repeats are harmless; the registry acts on the first.
        draining_ = true;
        return "";
      case MsgType::Error: {
        auto text = [&](const char* f) {
          auto it = m.body.find(f);
          return peerText(it != m.body.end() && it->is_string() ? it->get<std::string>() : "?");
        };
        return "slave sent error: " + text("code") + ": " + text("message");
      }
      default:
        return "unexpected " + std::string(toString(m.type)) + " from a slave";
    }
  } catch (const ProtocolError& e) {
    return std::string(toString(m.type)) + ": " + e.what();
  }
}

std::string RemoteSlave::onSlaveInfo(const Json& body) {
  if (hasInfo_) return "SlaveInfo sent twice (it is sent once, first)";
  getString(body, "host");
  getString(body, "os");
  if (getInt(body, "cpus") < 1) return "SlaveInfo: field 'cpus' must be at least 1";
  getString(body, "version");
  getString(body, "basedir");
  info_ = body;
  hasInfo_ = true;
  return "";
}

std::string RemoteSlave::unknownCommand(const char* what, std::int64_t id) const {
  const bool ended = id >= 1 && id < nextCmd_;
  return std::string(what) + " for command " + std::to_string(id) +
         (ended ? ", which has already ended" : ", which the master never started on this connection");
}

std::string RemoteSlave::onOutput(const Json& body) {
  const std::int64_t id = getInt(body, "cmd_id");
  const std::int64_t stream = getInt(body, "stream");
  auto dit = body.find("data");
  if (dit == body.end()) return "Output: field 'data' is missing";
  if (!dit->is_binary()) return "Output: field 'data' must be binary (MessagePack bin)";
  if (stream < 0 || stream > 3) return "Output: field 'stream' must be 0, 1, 2 or 3";
  const auto& bin = dit->get_binary();
  if (bin.size() > kMaxOutputChunk)
    return "Output of " + std::to_string(bin.size()) + " bytes exceeds the chunk limit of " +
           std::to_string(kMaxOutputChunk);
  auto it = commands_.find(id);
  if (it == commands_.end()) return unknownCommand("Output", id);
  const auto size = static_cast<std::int64_t>(bin.size());
  if (size > it->second.window)
    return "Output of " + std::to_string(size) + " bytes for command " + std::to_string(id) +
           " exceeds its credit window of " + std::to_string(it->second.window) + " bytes";
  it->second.window -= size;
  std::string_view data(reinterpret_cast<const char*>(bin.data()), bin.size());
  if (it->second.handlers.onOutput) it->second.handlers.onOutput(static_cast<int>(stream), data);
  return "";
}

std::string RemoteSlave::onFileCredit(const Json& body) {
  const std::int64_t id = getInt(body, "cmd_id");
  const std::int64_t bytes = getInt(body, "bytes");
  if (bytes < 1 || bytes > (std::int64_t{1} << 32)) return "FileCredit: field 'bytes' must be between 1 and 2^32";
  auto it = commands_.find(id);
  if (it == commands_.end()) {
    // Credit for a download that just ended is normal.
    if (id >= 1 && id < nextCmd_) return "";
    return unknownCommand("FileCredit", id);
  }
  if (!it->second.handlers.onFileCredit) return "FileCredit for command " + std::to_string(id) + ", which is not a download";
  it->second.handlers.onFileCredit(bytes);
  return "";
}

std::string RemoteSlave::onCommandDone(const Json& body) {
  const std::int64_t id = getInt(body, "cmd_id");
  CommandOutcome o;
  o.rc = static_cast<int>(std::clamp<std::int64_t>(getInt(body, "rc"), INT32_MIN, INT32_MAX));
  o.signal = static_cast<int>(std::clamp<std::int64_t>(optInt(body, "signal").value_or(0), 0, 1024));
  for (auto [field, out] : {std::pair{"timed_out", &o.timedOut}, {"interrupted", &o.interrupted}}) {
    auto f = body.find(field);
    if (f == body.end() || f->is_null()) continue;
    if (!f->is_boolean()) return std::string("CommandDone: field '") + field + "' must be a boolean";
    *out = f->get<bool>();
  }
  o.error = optString(body, "error").value_or("");
  if (auto p = body.find("props"); p != body.end() && !p->is_null()) {
    if (!p->is_object()) return "CommandDone: field 'props' must be a map";
    o.props = *p;
  }
  auto it = commands_.find(id);
  if (it == commands_.end()) return unknownCommand("CommandDone", id);
  auto h = std::move(it->second.handlers);
  commands_.erase(it);
  if (h.onDone) h.onDone(o);
  return "";
}

void RemoteSlave::onDisconnected(const std::string& reason) {
  if (!connected_) return;
  connected_ = false;
  auto pings = std::move(pings_);
  pings_.clear();
  for (auto& [id, p] : pings) p.done(false);
  auto cmds = std::move(commands_);
  commands_.clear();
  const bool broke = conn_->closedForProtocolError();
  for (auto& [id, c] : cmds) {
    CommandOutcome o;
    o.lost = !broke;
    o.error = broke ? "slave " + name_ + " broke the protocol: " + reason
                    : "slave " + name_ + " disconnected: " + reason;
    if (c.handlers.onDone) c.handlers.onDone(o);
  }
}

bool RemoteSlave::sendShutdownReady() {
  if (!connected_ || toldReady_) return false;
  toldReady_ = true;
  conn_->send(MsgType::ShutdownReady,
              stopReason_.empty() ? Json::object() : Json{{"reason", stopReason_}});
  return true;
}

void RemoteSlave::disconnect(const std::string& code, const std::string& message) {
  conn_->sendErrorAndClose(code, message);
}

}  // namespace bb
