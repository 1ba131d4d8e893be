// Masters: each master's identity and heartbeat, and what it still holds.
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

#define BB_MASTER_COLUMNS "id, name, active, started_at, last_heartbeat"

MasterRecord readMaster(const Statement& s) {
  MasterRecord m;
  m.id = s.getInt(0);
  m.name = s.getText(1);
  m.active = s.getBool(2);
  m.startedAt = s.getInt(3);
  m.lastHeartbeat = s.getInt(4);
  return m;
}

}  // namespace

MasterId Database::registerMaster(const std::string& name, std::int64_t now) {
  static constexpr char kUpsert[] =
      "INSERT INTO masters (name, active, started_at, last_heartbeat) VALUES (?1, 1, ?2, ?2)"
      " ON CONFLICT (name) DO UPDATE SET active = 1, started_at = ?2, last_heartbeat = ?2"
      " RETURNING id";
  if (name.empty()) throw DbError("registerMaster: the master's name must not be empty");
  Statement s = stmt(kUpsert);
  s.bind(1, name).bind(2, now);
  s.requireRow();
  return MasterId{s.getInt(0)};
}

void Database::masterHeartbeat(MasterId master, std::int64_t now) {
  static constexpr char kBeat[] = "UPDATE masters SET last_heartbeat = ?2 WHERE id = ?1";
  Statement s = stmt(kBeat);
  s.bind(1, master.value).bind(2, now).run();
  if (s.changes() != 1)
    throw DbError("masterHeartbeat: no master with id " + std::to_string(master.value));
}

void Database::masterStopped(MasterId master, std::int64_t now) {
  static constexpr char kStopped[] =
      "UPDATE masters SET active = 0, last_heartbeat = ?2 WHERE id = ?1";
  Statement s = stmt(kStopped);
  s.bind(1, master.value).bind(2, now).run();
  if (s.changes() != 1)
    throw DbError("masterStopped: no master with id " + std::to_string(master.value));
}

std::optional<MasterRecord> Database::getMaster(MasterId master) {
  static constexpr char kSelect[] = "SELECT " BB_MASTER_COLUMNS " FROM masters WHERE id = ?1";
  Statement s = stmt(kSelect);
  s.bind(1, master.value);
  if (!s.step()) return std::nullopt;
  return readMaster(s);
}

std::vector<MasterRecord> Database::masters() {
  static constexpr char kSelect[] = "SELECT " BB_MASTER_COLUMNS " FROM masters ORDER BY id";
  std::vector<MasterRecord> out;
  Statement s = stmt(kSelect);
  while (s.step()) out.push_back(readMaster(s));
  return out;
}

std::vector<MasterWork> Database::otherMastersWork(MasterId master) {
  // Startup only: scans, like the other recovery queries.
  static constexpr char kSelect[] =
      "SELECT " BB_MASTER_COLUMNS ","
      " (SELECT count(*) FROM buildrequests r"
      "   WHERE r.claimed_by = masters.id AND r.claimed = 1 AND r.complete = 0),"
      " (SELECT count(*) FROM builds b WHERE b.master_id = masters.id AND b.finished = 0)"
      " FROM masters WHERE id != ?1 ORDER BY id";
  std::vector<MasterWork> out;
  Statement s = stmt(kSelect);
  s.bind(1, master.value);
  while (s.step()) {
    MasterWork w{readMaster(s), static_cast<int>(s.getInt(5)), static_cast<int>(s.getInt(6))};
    if (w.claimedRequests > 0 || w.unfinishedBuilds > 0) out.push_back(std::move(w));
  }
  return out;
}

std::vector<MasterRecord> Database::silentMasters(MasterId self, std::int64_t before) {
  static constexpr char kSelect[] = "SELECT " BB_MASTER_COLUMNS
                                    " FROM masters WHERE active = 1 AND id != ?1 AND last_heartbeat < ?2"
                                    " ORDER BY id";
  std::vector<MasterRecord> out;
  Statement s = stmt(kSelect);
  s.bind(1, self.value).bind(2, before);
  while (s.step()) out.push_back(readMaster(s));
  return out;
}

bool Database::declareMasterDead(MasterId master, std::int64_t before) {
  static constexpr char kDead[] =
      "UPDATE masters SET active = 0 WHERE id = ?1 AND active = 1 AND last_heartbeat < ?2";
  Statement s = stmt(kDead);
  s.bind(1, master.value).bind(2, before).run();
  return s.changes() == 1;
}

bool Database::masterStillActive(MasterId master) {
  static constexpr char kActive[] = "SELECT active FROM masters WHERE id = ?1";
  Statement s = stmt(kActive);
  s.bind(1, master.value);
  return s.step() && s.getInt(0) != 0;
}

void Database::setMasterWishes(MasterId master, const MasterWishes& w) {
  static constexpr char kSet[] =
      "UPDATE masters SET wants_status = ?2, wants_changes = ?3, wants_buildsets = ?4 WHERE id = ?1";
  const auto flag = [](bool b) { return std::int64_t{b ? 1 : 0}; };
  Statement s = stmt(kSet);
  s.bind(1, master.value).bind(2, flag(w.status)).bind(3, flag(w.changes)).bind(4, flag(w.buildsets)).run();
  if (s.changes() != 1)
    throw DbError("setMasterWishes: no master with id " + std::to_string(master.value));
}

bool Database::otherMastersWantStatus(MasterId self) {
  static constexpr char kAny[] =
      "SELECT count(*) FROM masters WHERE id <> ?1 AND active = 1 AND wants_status <> 0";
  Statement s = stmt(kAny);
  s.bind(1, self.value);
  s.requireRow();
  return s.getInt(0) > 0;
}

}  // namespace bb::db
