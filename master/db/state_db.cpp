// Per-object state (schedulers, pollers) and the slaves table.
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

SlaveRecord readSlave(const Statement& s) {
  SlaveRecord r;
  r.name = s.getText(0);
  r.info = s.getJson(1);
  r.connected = s.getBool(2);
  r.lastSeen = s.getInt(3);
  r.lastConnected = s.getInt(4);
  r.lastDisconnected = s.getInt(5);
  return r;
}

}  // namespace

std::optional<Json> Database::getState(const std::string& object, const std::string& key) {
  static constexpr char kSelect[] =
      "SELECT value FROM object_state WHERE object = ?1 AND key = ?2";
  Statement s = stmt(kSelect);
  s.bind(1, object).bind(2, key);
  if (!s.step()) return std::nullopt;
  return s.getJson(0);
}

void Database::setState(const std::string& object, const std::string& key, const Json& value) {
  static constexpr char kUpsert[] =
      "INSERT INTO object_state (object, key, value) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (object, key) DO UPDATE SET value = excluded.value";
  stmt(kUpsert).bind(1, object).bind(2, key).bindJson(3, value).runAhead();
}

void Database::deleteState(const std::string& object, const std::string& key) {
  static constexpr char kDelete[] = "DELETE FROM object_state WHERE object = ?1 AND key = ?2";
  stmt(kDelete).bind(1, object).bind(2, key).runAhead();
}

std::vector<std::pair<std::string, Json>> Database::statesWithPrefix(const std::string& object,
                                                                     const std::string& prefix) {
  // A range on the primary key (object, key): no scan of other objects.
  // The CAST gives the parameter a type for engines that infer one.
  static constexpr char kSelect[] =
      "SELECT key, value FROM object_state WHERE object = ?1 AND key >= ?2"
      " AND substr(key, 1, length(CAST(?2 AS TEXT))) = ?2 ORDER BY key";
  std::vector<std::pair<std::string, Json>> out;
  Statement s = stmt(kSelect);
  s.bind(1, object).bind(2, prefix);
  while (s.step()) out.emplace_back(s.getText(0), s.getJson(1));
  return out;
}

void Database::slaveSeen(const std::string& name, const Json& info, std::int64_t now) {
  // ?2 NULL keeps the stored info. last_connected moves only on the
  // transition from disconnected, so heartbeats do not reset it.
  static constexpr char kUpsert[] =
      "INSERT INTO slaves (name, info, connected, last_seen, last_connected)"
      " VALUES (?1, coalesce(?2, '{}'), 1, ?3, ?3)"
      " ON CONFLICT (name) DO UPDATE SET info = coalesce(?2, slaves.info), connected = 1,"
      " last_seen = ?3,"
      " last_connected = CASE WHEN slaves.connected = 0 THEN ?3 ELSE slaves.last_connected END";
  Statement s = stmt(kUpsert);
  s.bind(1, name);
  if (info.is_null()) s.bindNull(2);
  else s.bindJson(2, info);
  s.bind(3, now).run();
}

void Database::slaveDisconnected(const std::string& name, std::int64_t now) {
  static constexpr char kUpsert[] =
      "INSERT INTO slaves (name, connected, last_seen, last_disconnected)"
      " VALUES (?1, 0, ?2, ?2)"
      " ON CONFLICT (name) DO UPDATE SET connected = 0, last_seen = ?2, last_disconnected = ?2";
  stmt(kUpsert).bind(1, name).bind(2, now).run();
}

std::optional<SlaveRecord> Database::getSlave(const std::string& name) {
  static constexpr char kSelect[] =
      "SELECT name, info, connected, last_seen, last_connected, last_disconnected"
      " FROM slaves WHERE name = ?1";
  Statement s = stmt(kSelect);
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return readSlave(s);
}

std::vector<SlaveRecord> Database::slaves() {
  static constexpr char kSelect[] =
      "SELECT name, info, connected, last_seen, last_connected, last_disconnected"
      " FROM slaves ORDER BY name";
  std::vector<SlaveRecord> out;
  Statement s = stmt(kSelect);
  while (s.step()) out.push_back(readSlave(s));
  return out;
}

}  // namespace bb::db
