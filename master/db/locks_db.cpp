// Master-scoped locks held through the database, when several masters share
// it (docs/multimaster.md, "Locks"). Each lock has one row in master_locks
// counting its holders; every grant is a conditional UPDATE of that row, so
// the database, not a read made earlier, decides: two masters asking for
// the last slot at once are serialised on the row and the second one's
// UPDATE matches nothing. master_lock_holders names each hold, for
// releasing it, for dropping a dead master's and for status.
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

// Runs `sql` (binding ?1 = lock name, ?2 = `arg`) and says whether it
// changed the lock's row.
bool updateLockRow(Statement&& s, const std::string& lock, std::int64_t arg) {
  s.bind(1, lock).bind(2, arg).run();
  return s.changes() == 1;
}

}  // namespace

std::optional<std::size_t> Database::changeLockHolds(MasterId master,
                                                     const std::vector<LockHoldChange>& changes,
                                                     std::int64_t now, std::int64_t waitersSince) {
  // ?2 is the limit for a new counting hold; unused (but bound) otherwise.
  static constexpr char kNewCounting[] =
      "UPDATE master_locks SET holders = holders + 1"
      " WHERE name = ?1 AND exclusive_held = 0 AND holders < ?2";
  // The same, unless another active master marked since ?4 that an
  // exclusive claim waits there (?3: this master).
  static constexpr char kNewCountingBehindWaiters[] =
      "UPDATE master_locks SET holders = holders + 1"
      " WHERE name = ?1 AND exclusive_held = 0 AND holders < ?2"
      " AND NOT EXISTS (SELECT 1 FROM master_lock_waiters w JOIN masters m ON m.id = w.master_id"
      "   WHERE w.lock_name = ?1 AND w.master_id <> ?3 AND w.since >= ?4 AND m.active = 1)";
  static constexpr char kNewExclusive[] =
      "UPDATE master_locks SET holders = holders + 1, exclusive_held = 1"
      " WHERE name = ?1 AND holders = 0 AND ?2 >= 0";
  // The owner holds one counting slot already: exclusive if it is the only one.
  static constexpr char kUpgrade[] =
      "UPDATE master_locks SET exclusive_held = 1 WHERE name = ?1 AND holders = 1 AND ?2 >= 0";
  static constexpr char kDowngrade[] =
      "UPDATE master_locks SET exclusive_held = 0 WHERE name = ?1 AND ?2 >= 0";
  static constexpr char kDrop[] =
      "UPDATE master_locks SET holders = holders - 1,"
      " exclusive_held = CASE WHEN ?2 = 2 THEN 0 ELSE exclusive_held END"
      " WHERE name = ?1 AND holders > 0";
  static constexpr char kEnsureRow[] =
      "INSERT INTO master_locks (name) VALUES (?1) ON CONFLICT (name) DO NOTHING";
  // Only a master still active may hold: one declared dead (it stalled
  // past dead_after and has not noticed yet) is refused, so it leaves no
  // hold behind that nobody would take over.
  static constexpr char kAddHolder[] =
      "INSERT INTO master_lock_holders (lock_name, master_id, owner, hold_mode, since)"
      " SELECT CAST(?1 AS TEXT), ?2, CAST(?3 AS TEXT), CAST(?4 AS INTEGER), CAST(?5 AS BIGINT)"
      " WHERE EXISTS (SELECT 1 FROM masters WHERE id = ?2 AND active = 1)";
  static constexpr char kSetHolderMode[] =
      "UPDATE master_lock_holders SET hold_mode = ?4"
      " WHERE lock_name = ?1 AND master_id = ?2 AND owner = ?3 AND ?5 >= 0";
  static constexpr char kDropHolder[] =
      "DELETE FROM master_lock_holders WHERE lock_name = ?1 AND master_id = ?2 AND owner = ?3";
  static constexpr char kWaitOver[] = "DELETE FROM master_lock_waiters WHERE lock_name = ?1 AND master_id = ?2";

  auto holder = [&](const char* sql, const LockHoldChange& c) {
    Statement s = stmt(sql);
    s.bind(1, c.lock).bind(2, master.value).bind(3, c.owner);
    if (sql != kDropHolder) s.bind(4, static_cast<std::int64_t>(c.to)).bind(5, now);
    s.run();
    return s.changes() == 1;
  };

  begin();
  try {
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const LockHoldChange& c = changes[i];
      if (c.from == c.to) continue;
      bool ok = true;
      if (c.from == LockHold::None) {
        auto raise = [&] {
          if (c.to == LockHold::Exclusive) return updateLockRow(stmt(kNewExclusive), c.lock, c.limit);
          if (waitersSince <= 0) return updateLockRow(stmt(kNewCounting), c.lock, c.limit);
          Statement s = stmt(kNewCountingBehindWaiters);
          s.bind(3, master.value).bind(4, waitersSince);
          return updateLockRow(std::move(s), c.lock, c.limit);
        };
        ok = raise();
        if (!ok) {
          // The lock's first hold anywhere makes its row. The UPDATE is
          // tried again even when another master made the row meanwhile
          // (its INSERT waited for that master's commit): only a row that
          // exists and does not admit the hold means the lock is busy.
          stmt(kEnsureRow).bind(1, c.lock).run();
          ok = raise();
        }
        if (ok) ok = holder(kAddHolder, c);
      } else if (c.to == LockHold::None) {
        // Only a hold still recorded is counted down: dropping twice (a
        // release retried after the commit was lost) changes nothing.
        if (holder(kDropHolder, c))
          updateLockRow(stmt(kDrop), c.lock, static_cast<std::int64_t>(c.from));
      } else if (c.to == LockHold::Exclusive) {
        ok = updateLockRow(stmt(kUpgrade), c.lock, 0);
        if (ok) holder(kSetHolderMode, c);
      } else {
        updateLockRow(stmt(kDowngrade), c.lock, 0);
        holder(kSetHolderMode, c);
      }
      if (!ok) {
        rollback();
        return i;
      }
      // An exclusive claim that waited here waits no more.
      if (c.to == LockHold::Exclusive) stmt(kWaitOver).bind(1, c.lock).bind(2, master.value).runAhead();
    }
    commit();
  } catch (...) {
    rollbackAfterError();
    throw;
  }
  return std::nullopt;
}

void Database::markLockWaiter(const std::string& lock, MasterId master, std::int64_t now) {
  static constexpr char kMark[] =
      "INSERT INTO master_lock_waiters (lock_name, master_id, since) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (lock_name, master_id) DO UPDATE SET since = excluded.since";
  stmt(kMark).bind(1, lock).bind(2, master.value).bind(3, now).run();
}

std::vector<std::string> Database::lockWaiters(const std::string& lock, MasterId except, std::int64_t since) {
  static constexpr char kWaiters[] =
      "SELECT m.name FROM master_lock_waiters w JOIN masters m ON m.id = w.master_id"
      " WHERE w.lock_name = ?1 AND w.master_id <> ?2 AND w.since >= ?3 AND m.active = 1 ORDER BY w.since";
  Statement s = stmt(kWaiters);
  s.bind(1, lock).bind(2, except.value).bind(3, since);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.getText(0));
  return out;
}

std::vector<LockHolderRecord> Database::lockHolders(const std::string& lock) {
  static constexpr char kHolders[] =
      "SELECT h.lock_name, h.master_id, m.name, h.owner, h.hold_mode, h.since"
      " FROM master_lock_holders h JOIN masters m ON m.id = h.master_id"
      " WHERE ?1 = '' OR h.lock_name = ?1 ORDER BY h.lock_name, h.master_id, h.since, h.owner";
  Statement s = stmt(kHolders);
  s.bind(1, lock);
  std::vector<LockHolderRecord> out;
  while (s.step()) {
    LockHolderRecord r;
    r.lock = s.getText(0);
    r.master = MasterId{s.getInt(1)};
    r.masterName = s.getText(2);
    r.owner = s.getText(3);
    r.mode = s.getInt(4) == static_cast<std::int64_t>(LockHold::Exclusive) ? LockHold::Exclusive
                                                                           : LockHold::Counting;
    r.since = s.getInt(5);
    out.push_back(std::move(r));
  }
  return out;
}

int Database::releaseLockHoldsOf(MasterId master) {
  // Each hold deleted is counted down once, from what the DELETE itself
  // returned: a hold the master wrote concurrently (a stalled master
  // declared dead that has not noticed yet) is either deleted and counted,
  // or left whole, never half.
  static constexpr char kDropAll[] =
      "DELETE FROM master_lock_holders WHERE master_id = ?1 RETURNING lock_name, hold_mode";
  static constexpr char kCountDown[] =
      "UPDATE master_locks SET holders = holders - 1,"
      " exclusive_held = CASE WHEN ?2 = 2 THEN 0 ELSE exclusive_held END"
      " WHERE name = ?1 AND holders > 0";
  static constexpr char kNoWaits[] = "DELETE FROM master_lock_waiters WHERE master_id = ?1";
  static constexpr char kNoPlans[] = "DELETE FROM master_lock_plans WHERE master_id = ?1";
  stmt(kNoWaits).bind(1, master.value).runAhead();
  stmt(kNoPlans).bind(1, master.value).runAhead();
  std::vector<std::pair<std::string, std::int64_t>> dropped;
  {
    Statement s = stmt(kDropAll);
    s.bind(1, master.value);
    while (s.step()) dropped.emplace_back(s.getText(0), s.getInt(1));
  }
  for (const auto& [lock, mode] : dropped) stmt(kCountDown).bind(1, lock).bind(2, mode).runAhead();
  return static_cast<int>(dropped.size());
}

}  // namespace bb::db
