// Scheduler owners: which master runs a scheduler that must run on one
// master only (timers, held changes), when several share the database.
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

bool Database::claimScheduler(const std::string& name, MasterId master, std::int64_t now) {
  // An upsert whose update applies only to a free row (or one already
  // ours): both engines lock the row, so a second claimer changes nothing.
  static constexpr char kClaim[] =
      "INSERT INTO scheduler_owners (name, master_id, claimed_at) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (name) DO UPDATE SET master_id = ?2, claimed_at = ?3"
      " WHERE scheduler_owners.master_id IS NULL OR scheduler_owners.master_id = ?2";
  Statement s = stmt(kClaim);
  s.bind(1, name).bind(2, master.value).bind(3, now).run();
  return s.changes() == 1;
}

void Database::releaseScheduler(const std::string& name, MasterId master) {
  static constexpr char kRelease[] =
      "UPDATE scheduler_owners SET master_id = NULL WHERE name = ?1 AND master_id = ?2";
  stmt(kRelease).bind(1, name).bind(2, master.value).run();
}

int Database::releaseSchedulersOf(MasterId master) {
  static constexpr char kRelease[] = "UPDATE scheduler_owners SET master_id = NULL WHERE master_id = ?1";
  Statement s = stmt(kRelease);
  s.bind(1, master.value).run();
  return s.changes();
}

std::optional<MasterId> Database::schedulerOwner(const std::string& name) {
  static constexpr char kOwner[] = "SELECT master_id FROM scheduler_owners WHERE name = ?1";
  Statement s = stmt(kOwner);
  s.bind(1, name);
  if (!s.step() || s.isNull(0)) return std::nullopt;
  return MasterId{s.getInt(0)};
}

}  // namespace bb::db
