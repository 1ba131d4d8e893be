// The deadlock rule across masters (docs/multimaster.md, "Deadlocks across
// masters"): each master stores the lock plan of every running build that
// holds build locks, and admits a new one only if, with the plans the other
// masters stored, no cycle of lock waits can form. The check and the store
// are one transaction that first updates the single row of lock_plan_gate:
// on PostgreSQL that row lock makes a second master's admission wait until
// the first has committed, and its reads (READ COMMITTED: a snapshot per
// statement) then see the first one's plan.
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

bool Database::admitLockPlan(MasterId master, std::int64_t key, const std::string& plan, std::int64_t now,
                             const std::function<bool(const std::vector<LockPlanRecord>&)>& admit) {
  static constexpr char kTakeTurn[] = "UPDATE lock_plan_gate SET turns = turns + 1 WHERE id = 1";
  // Only a master still active stores a plan (like a lock hold).
  static constexpr char kStore[] =
      "INSERT INTO master_lock_plans (master_id, build_key, plan, since)"
      " SELECT ?1, ?2, CAST(?3 AS TEXT), CAST(?4 AS BIGINT)"
      " WHERE EXISTS (SELECT 1 FROM masters WHERE id = ?1 AND active = 1)"
      " ON CONFLICT (master_id, build_key) DO UPDATE SET plan = excluded.plan, since = excluded.since";
  return transaction([&] {
    stmt(kTakeTurn).runAhead();
    if (!admit(lockPlans(master))) return false;
    Statement s = stmt(kStore);
    s.bind(1, master.value).bind(2, key).bind(3, plan).bind(4, now).run();
    return s.changes() == 1;
  });
}

std::vector<LockPlanRecord> Database::lockPlans(MasterId except) {
  static constexpr char kPlans[] =
      "SELECT p.master_id, m.name, p.build_key, p.plan FROM master_lock_plans p"
      " JOIN masters m ON m.id = p.master_id"
      " WHERE p.master_id <> ?1 AND m.active = 1 ORDER BY p.master_id, p.build_key";
  Statement s = stmt(kPlans);
  s.bind(1, except.value);
  std::vector<LockPlanRecord> out;
  while (s.step()) {
    LockPlanRecord r;
    r.master = MasterId{s.getInt(0)};
    r.masterName = s.getText(1);
    r.key = s.getInt(2);
    r.plan = s.getText(3);
    out.push_back(std::move(r));
  }
  return out;
}

void Database::dropLockPlan(MasterId master, std::int64_t key) {
  static constexpr char kDrop[] = "DELETE FROM master_lock_plans WHERE master_id = ?1 AND build_key = ?2";
  stmt(kDrop).bind(1, master.value).bind(2, key).run();
}

}  // namespace bb::db
