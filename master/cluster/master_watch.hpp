#pragma once
// Watching the other masters on a shared database: on a timer, and at the
// moment another master's last heartbeat passes `dead_after`, a master
// whose heartbeat is older than `dead_after` is declared dead (one
// conditional UPDATE, so one survivor wins) and, in the same transaction,
// its work is taken over (master_takeover.hpp): builds RETRY, requests back
// in the queue, schedulers released. The same timer checks this master's
// own row: if another master declared it dead (it was silent too long
// while alive) it is told, as its work now runs elsewhere.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "master/cluster/master_takeover.hpp"
#include "master/db/records.hpp"

namespace bb {

class MasterWatch {
 public:
  // After a takeover committed: the dead master's name and what was taken.
  using OnTakeover = std::function<void(const std::string& master, const TakenOver&)>;

  MasterWatch(db::Database& db, Clock& clock, db::MasterId self, std::chrono::seconds deadAfter,
              std::chrono::seconds every, OnTakeover onTakeover, std::function<void()> onDeclaredDead);
  ~MasterWatch();
  MasterWatch(const MasterWatch&) = delete;
  MasterWatch& operator=(const MasterWatch&) = delete;

  // Starts / stops the timer. A failed check (the database unreachable) is
  // logged and tried at the next tick; it never throws.
  void start();
  void stop();
  // One check now (the timer's work).
  void check();
  // Also run on every tick, after check() (the schedulers' catch-up on
  // changes, the shared locks' retries); a throw is logged.
  void setOnTick(std::function<void()> fn) { onTick_ = std::move(fn); }

 private:
  db::Database& db_;
  Clock& clock_;
  db::MasterId self_;
  std::chrono::seconds deadAfter_, every_;
  OnTakeover onTakeover_;
  std::function<void()> onDeclaredDead_;
  std::function<void()> onTick_;
  void armDeadline(const std::vector<db::MasterRecord>& masters);

  // After the moment a master passes dead_after: the check's own time.
  static constexpr std::int64_t kDeadlineSlackMs = 20;
  std::unique_ptr<Timer> timer_;
  std::unique_ptr<Timer> deadline_;  // the next moment another master may be dead
  bool declaredDead_ = false;
};

}  // namespace bb
