#pragma once
// The slaves the config knows and the ones connected now. Attaching a
// slave wakes the distributor; choosing among free slaves is least
// recently used first, so work spreads evenly. A slave that asked to shut
// down gracefully is "draining": it is never chosen again, and once its
// last build ends it is sent ShutdownReady.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "config/master_config.hpp"
#include "master/events/event.hpp"
#include "master/slaves/remote_slave.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class EventBus;

class SlaveRegistry {
 public:
  // slave.attached (once the slave's SlaveInfo arrived: it may build
  // from then on), .detached, .draining and .backed_off go on `events`.
  SlaveRegistry(db::Database& db, Clock& clock, EventBus& events)
      : db_(db), clock_(clock), events_(events) {}

  // Replaces the known slaves (reconfig). Connected slaves that are no
  // longer configured are disconnected.
  void configure(const std::vector<SlaveEntry>& slaves);
  const SlaveEntry* config(const std::string& name) const;

  // A slave proved its password on `conn`; `done` gets "" just before the
  // session starts (it sends the Welcome then), or the reason the login is
  // refused (it sends Error duplicate_slave instead of the Welcome). A
  // second login under the name of a connected slave pings the old
  // connection first: if it answers within `pingTimeout` the new login is
  // refused, otherwise the old connection is closed with duplicate_slave
  // (its builds end as RETRY) and the new one takes over. Reading from
  // `conn` is paused meanwhile, so nothing it sends is lost.
  void attach(const std::string& name, std::shared_ptr<Connection> conn,
              std::chrono::milliseconds pingTimeout, std::function<void(const std::string&)> done);

  // The connected session, or nullptr.
  std::shared_ptr<RemoteSlave> find(const std::string& name) const;
  // Among `candidates`, a connected slave that sent its SlaveInfo, with a
  // free build slot, not draining and not backing off after a failed ping,
  // least recently given a build first; nullptr if none.
  // `acceptable` (if set) can veto a slave, e.g. when its locks are busy.
  std::shared_ptr<RemoteSlave> pickFree(
      const std::vector<std::string>& candidates,
      const std::function<bool(const std::string&)>& acceptable = {}) const;
  // A build slot is taken from the moment the slave is pinged for a build
  // (so a slave being pinged cannot be claimed by another) until the build
  // ends or the ping fails. Freeing the last slot of a draining slave
  // sends it ShutdownReady.
  void buildStarted(const std::string& name);
  void buildFinished(const std::string& name);
  // The ping before a build: a failure keeps the slave out of claims for a
  // back-off that doubles with each consecutive failure (5 s .. 5 min); a
  // success resets it.
  void pingFailed(const std::string& name);
  void pingSucceeded(const std::string& name);
  // Seconds left in the slave's back-off (0 if none).
  double backoffSeconds(const std::string& name) const;
  int runningBuilds(const std::string& name) const;
  std::size_t connectedCount() const { return sessions_.size(); }
  std::vector<std::string> connectedNames() const;

  // A graceful stop asked at the master (the web's `stop` on a worker):
  // the slave is draining from now on (no new builds; a `slave.draining`
  // event with `reason`), and once its builds end it is sent ShutdownReady
  // with `reason` and exits. False when it is not connected. Asking again
  // changes nothing.
  bool stopGracefully(const std::string& name, const std::string& reason);

  // Closes every session (shutdown).
  void disconnectAll(const std::string& code, const std::string& message);

 private:
  void publish(EventType type, const std::string& name, Json data);
  // Writes the slaves table row (connected, last seen): bookkeeping for
  // status, so a refusal (a full disk) is logged and the slave is served
  // all the same.
  void record(const std::string& name, const std::function<void()>& write);
  void detach(const std::string& name, RemoteSlave* session, const std::string& reason);
  void attachNow(const std::string& name, std::shared_ptr<Connection> conn);
  // The slave sent its first ShutdownRequest on this connection.
  void startDrain(RemoteSlave& session);
  // Sends ShutdownReady if the slave is draining and holds no build slot.
  void releaseIfDrained(const std::string& name);
  db::Database& db_;
  Clock& clock_;
  EventBus& events_;
  std::map<std::string, SlaveEntry> config_;
  std::map<std::string, std::shared_ptr<RemoteSlave>> sessions_;
  std::map<std::string, int> running_;
  std::map<std::string, std::uint64_t> lastUsed_;
  std::uint64_t useCounter_ = 0;
  struct Backoff {
    int failures = 0;
    SteadyTime until{};
    std::unique_ptr<Timer> timer;  // wakes the distributor when it ends
  };
  std::map<std::string, Backoff> backoff_;
};

}  // namespace bb
