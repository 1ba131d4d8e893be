#include "master/slaves/slave_registry.hpp"

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"

namespace bb {

namespace {
std::int64_t unixNow(Clock& c) {
  return std::chrono::duration_cast<std::chrono::seconds>(c.wallNow().time_since_epoch()).count();
}
}  // namespace

void SlaveRegistry::publish(EventType type, const std::string& name, Json data) {
  Event e;
  e.type = type;
  e.slave = name;
  e.data = std::move(data);
  events_.publish(std::move(e));
}

void SlaveRegistry::configure(const std::vector<SlaveEntry>& slaves) {
  config_.clear();
  for (const auto& s : slaves) config_[s.name] = s;
  std::vector<std::string> gone;
  for (const auto& [name, sess] : sessions_)
    if (!config_.count(name)) gone.push_back(name);
  for (const auto& name : gone) {
    spdlog::warn("slave {} is no longer in the config; disconnecting it", name);
    sessions_[name]->disconnect("not_permitted", "slave '" + name + "' was removed from the master's config");
  }
}

const SlaveEntry* SlaveRegistry::config(const std::string& name) const {
  auto it = config_.find(name);
  return it == config_.end() ? nullptr : &it->second;
}

void SlaveRegistry::attach(const std::string& name, std::shared_ptr<Connection> conn,
                           std::chrono::milliseconds pingTimeout,
                           std::function<void(const std::string&)> done) {
  if (!config_.count(name)) {
    done("slave '" + peerText(name) + "' is not configured");
    return;
  }
  auto old = find(name);
  if (!old) {
    done("");  // sends the Welcome before the session starts
    attachNow(name, conn);
    return;
  }
  // Is the old connection still alive, or half-open?
  conn->pauseReading();
  spdlog::info("slave {} logs in again from {}; checking its connection from {}", name, conn->peer(),
               old->peer());
  std::weak_ptr<RemoteSlave> weakOld = old;
  old->ping(pingTimeout, [this, name, conn, weakOld, done](bool alive) {
    auto oldNow = weakOld.lock();
    if (alive && oldNow && find(name) == oldNow) {
      done("slave '" + name + "' is already connected from " + oldNow->peer() +
           " and answers pings; stop that slave first");
      return;
    }
    if (oldNow && find(name) == oldNow) {
      spdlog::warn("slave {}: the old connection from {} did not answer; dropping it", name,
                   oldNow->peer());
      detach(name, oldNow.get(), "replaced by a new login (the old connection did not answer a ping)");
      oldNow->disconnect("duplicate_slave", "replaced by a new login");
    }
    if (!conn->isOpen()) {
      done("the new connection closed while the old one was checked");
      return;
    }
    if (find(name)) {
      done("slave '" + name + "' logged in again meanwhile");
      return;
    }
    done("");
    attachNow(name, conn);
    conn->resumeReading();
  });
}

void SlaveRegistry::attachNow(const std::string& name, std::shared_ptr<Connection> conn) {
  auto session = std::make_shared<RemoteSlave>(name, conn, clock_);
  sessions_[name] = session;
  RemoteSlave* raw = session.get();
  std::weak_ptr<Connection> weak = conn;
  conn->start(
      [this, raw, weak](Message&& m) {
        const MsgType type = m.type;
        const bool wasDraining = raw->draining();
        // A slave that stops normally says so with a shutting_down Error:
        // not a problem, so not a warning.
        auto text = [&m](const char* f) {
          auto it = m.body.find(f);
          return it != m.body.end() && it->is_string() ? it->get<std::string>() : std::string();
        };
        const bool stopping = type == MsgType::Error && text("code") == "shutting_down";
        const std::string stopMessage = stopping ? text("message") : "";
        std::string err = raw->onMessage(std::move(m));
        if (!err.empty() && stopping) {
          spdlog::info("slave {} is stopping: {}", raw->name(), stopMessage);
          if (auto c = weak.lock()) c->close("the slave stopped");
        } else if (!err.empty() && type == MsgType::Error) {
          if (auto c = weak.lock()) c->close(err);  // the slave closes too; no answer
        } else if (!err.empty()) {
          spdlog::warn("slave {}: {}; closing its connection", raw->name(), err);
          if (auto c = weak.lock()) c->sendErrorAndClose("protocol_error", err);
        } else if (type == MsgType::SlaveInfo) {
          record(raw->name(), [&] { db_.slaveSeen(raw->name(), raw->info(), unixNow(clock_)); });
          // Only now may builds start on it.
          publish(EventType::SlaveAttached, raw->name(),
                  Json{{"peer", raw->peer()}, {"info", raw->info()}});
        } else if (type == MsgType::ShutdownRequest && !wasDraining) {
          startDrain(*raw);
        }
      },
      [this, name, raw](const std::string& reason) { detach(name, raw, reason); });
  record(name, [&] { db_.slaveSeen(name, Json::object(), unixNow(clock_)); });
  spdlog::info("slave {} connected from {}", name, conn->peer());
}

void SlaveRegistry::record(const std::string& name, const std::function<void()>& write) {
  try {
    write();
  } catch (const std::exception& e) {
    spdlog::error("slave {}: cannot record its state in the database: {}", name, e.what());
  }
}

void SlaveRegistry::detach(const std::string& name, RemoteSlave* session,
                           const std::string& reason) {
  auto it = sessions_.find(name);
  if (it == sessions_.end() || it->second.get() != session) return;
  auto keep = it->second;  // alive while its commands are failed
  sessions_.erase(it);
  spdlog::info("slave {} disconnected: {}", name, reason);
  keep->onDisconnected(reason);
  record(name, [&] { db_.slaveDisconnected(name, unixNow(clock_)); });
  publish(EventType::SlaveDetached, name, Json{{"reason", reason}});
}

std::shared_ptr<RemoteSlave> SlaveRegistry::find(const std::string& name) const {
  auto it = sessions_.find(name);
  return it == sessions_.end() ? nullptr : it->second;
}

std::shared_ptr<RemoteSlave> SlaveRegistry::pickFree(
    const std::vector<std::string>& candidates,
    const std::function<bool(const std::string&)>& acceptable) const {
  std::shared_ptr<RemoteSlave> best;
  std::uint64_t bestUse = 0;
  for (const auto& name : candidates) {
    auto s = find(name);
    if (!s || !s->connected() || s->draining() || !s->hasInfo()) continue;
    const SlaveEntry* cfg = config(name);
    const int max = cfg ? cfg->maxBuilds : 1;
    if (runningBuilds(name) >= max) continue;
    if (auto b = backoff_.find(name); b != backoff_.end() && b->second.until > clock_.now()) continue;
    if (acceptable && !acceptable(name)) continue;
    auto lu = lastUsed_.find(name);
    const std::uint64_t used = lu == lastUsed_.end() ? 0 : lu->second;
    if (!best || used < bestUse) {
      best = s;
      bestUse = used;
    }
  }
  return best;
}

void SlaveRegistry::buildStarted(const std::string& name) {
  ++running_[name];
  lastUsed_[name] = ++useCounter_;
}

void SlaveRegistry::buildFinished(const std::string& name) {
  auto it = running_.find(name);
  if (it != running_.end() && it->second > 0) --it->second;
  releaseIfDrained(name);
}

void SlaveRegistry::startDrain(RemoteSlave& session) {
  const std::string& name = session.name();
  // Slots include a slave being pinged for a build: the distributor checks
  // draining() when the Pong comes and gives the slot back unused.
  spdlog::info("slave {} is draining: it asked to shut down gracefully; {} build(s) still "
               "running on it finish, no new builds start there",
               name, runningBuilds(name));
  publish(EventType::SlaveDraining, name, Json{{"running", runningBuilds(name)}});
  releaseIfDrained(name);
}

bool SlaveRegistry::stopGracefully(const std::string& name, const std::string& reason) {
  auto s = find(name);
  if (!s || !s->connected()) return false;
  if (s->draining()) return true;  // already on its way out
  s->drainFromMaster(reason);
  spdlog::info("slave {} is draining: {}; {} build(s) still running on it finish, no new builds "
               "start there",
               name, reason, runningBuilds(name));
  publish(EventType::SlaveDraining, name, Json{{"running", runningBuilds(name)}, {"reason", reason}});
  releaseIfDrained(name);
  return true;
}

void SlaveRegistry::releaseIfDrained(const std::string& name) {
  auto s = find(name);
  if (!s || !s->draining() || runningBuilds(name) > 0) return;
  if (s->sendShutdownReady())
    spdlog::info("slave {} drained: no builds left on it; told it to disconnect", name);
}

void SlaveRegistry::pingFailed(const std::string& name) {
  static constexpr auto kFirst = std::chrono::seconds(5);
  static constexpr auto kMax = std::chrono::seconds(300);
  auto& b = backoff_[name];
  ++b.failures;
  auto wait = kFirst * (1LL << std::min(b.failures - 1, 10));
  if (wait > kMax) wait = kMax;
  b.until = clock_.now() + wait;
  if (!b.timer) b.timer = clock_.makeTimer();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait).count();
  publish(EventType::SlaveBackedOff, name, Json{{"seconds", seconds}, {"failures", b.failures}});
  b.timer->start(std::chrono::duration_cast<std::chrono::milliseconds>(wait), [this, name] {
    // The slave may be claimed again.
    publish(EventType::SlaveBackedOff, name, Json{{"seconds", 0}, {"ended", true}});
  });
  spdlog::warn("slave {} did not answer the ping before a build ({} failure(s) in a row); no builds "
               "for it for {} s",
               name, b.failures, std::chrono::duration_cast<std::chrono::seconds>(wait).count());
}

void SlaveRegistry::pingSucceeded(const std::string& name) {
  auto it = backoff_.find(name);
  if (it != backoff_.end()) it->second.failures = 0;
}

double SlaveRegistry::backoffSeconds(const std::string& name) const {
  auto it = backoff_.find(name);
  if (it == backoff_.end() || it->second.until <= clock_.now()) return 0;
  return std::chrono::duration<double>(it->second.until - clock_.now()).count();
}

int SlaveRegistry::runningBuilds(const std::string& name) const {
  auto it = running_.find(name);
  return it == running_.end() ? 0 : it->second;
}

std::vector<std::string> SlaveRegistry::connectedNames() const {
  std::vector<std::string> out;
  for (const auto& [n, s] : sessions_) out.push_back(n);
  return out;
}

void SlaveRegistry::disconnectAll(const std::string& code, const std::string& message) {
  auto sessions = sessions_;
  for (auto& [name, s] : sessions) s->disconnect(code, message);
}

}  // namespace bb
