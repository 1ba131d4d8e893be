#pragma once
// This master's identity in the database: its row in the masters table
// (found or made by master.name), kept alive by a heartbeat on a Clock
// timer and marked stopped at a clean shutdown. Requests it claims and
// builds it runs carry its id, and recovery at startup takes back only its
// own work.
#include <chrono>
#include <memory>
#include <string>

#include "common/event_loop.hpp"
#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class MasterIdentity {
 public:
  // How often the heartbeat is written by default.
  static constexpr std::chrono::seconds kHeartbeatInterval{10};
  // The interval for a master that others declare dead after `deadAfter`
  // of silence: a third of it (at least 1 s, at most the default), so two
  // missed heartbeats are not yet a death.
  static std::chrono::seconds intervalFor(std::chrono::seconds deadAfter);

  // Registers the master called `name` (creating its row on its first
  // start); throws DbError if the database refuses.
  MasterIdentity(db::Database& db, Clock& clock, std::string name,
                 std::chrono::seconds interval = kHeartbeatInterval);
  ~MasterIdentity();
  MasterIdentity(const MasterIdentity&) = delete;
  MasterIdentity& operator=(const MasterIdentity&) = delete;

  db::MasterId id() const { return id_; }
  const std::string& name() const { return name_; }

  // Starts the heartbeat timer. A heartbeat that fails (a full disk) is
  // logged and tried again at the next interval; it never throws.
  void start();
  // Stops the heartbeat and records a clean stop; a failure is logged.
  void stop();

 private:
  void beat();
  std::int64_t nowSeconds() const;

  db::Database& db_;
  Clock& clock_;
  std::string name_;
  db::MasterId id_;
  std::chrono::seconds interval_;
  std::unique_ptr<Timer> timer_;
  bool failing_ = false;  // the last heartbeat failed (logged once per outage)
};

}  // namespace bb
