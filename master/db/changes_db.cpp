// Changes, with their files and properties.
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

std::int64_t Database::addChange(const ChangeRecord& c) {
  static constexpr char kInsert[] =
      "INSERT INTO changes (author, comments, branch, revision, repository, project, category,"
      " source, when_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id";
  static constexpr char kFile[] =
      "INSERT INTO change_files (change_id, seq, path) VALUES (?1, ?2, ?3)";
  static constexpr char kProperty[] =
      "INSERT INTO change_properties (change_id, name, value) VALUES (?1, ?2, ?3)";
  if (!c.properties.is_object() && !c.properties.is_null()) {
    throw DbError("addChange: properties must be a JSON object, got " + c.properties.dump());
  }
  return transaction([&] {
    std::int64_t id = 0;
    {
      Statement s = stmt(kInsert);
      s.bind(1, c.author).bind(2, c.comments).bind(3, c.branch).bind(4, c.revision);
      s.bind(5, c.repository).bind(6, c.project).bind(7, c.category).bind(8, c.source);
      s.bind(9, c.when);
      s.requireRow();
      id = s.getInt(0);
    }
    std::int64_t seq = 0;
    for (const std::string& path : c.files) {
      stmt(kFile).bind(1, id).bind(2, seq++).bind(3, path).runAhead();
    }
    if (c.properties.is_object()) {
      for (const auto& [name, value] : c.properties.items()) {
        stmt(kProperty).bind(1, id).bind(2, name).bindJson(3, value).runAhead();
      }
    }
    return id;
  });
}

std::optional<ChangeRecord> Database::getChange(std::int64_t id) {
  // One statement, so one round trip to a database server: the change's
  // row (kind 0) first, then its files (1) in order, then its properties
  // (2) by name.
  static constexpr char kSelect[] =
      "SELECT 0 AS kind, 0 AS seq, author, comments, branch, revision, repository, project,"
      " category, source, when_at FROM changes WHERE id = ?1"
      " UNION ALL SELECT 1, seq, path, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0"
      " FROM change_files WHERE change_id = ?1"
      " UNION ALL SELECT 2, 0, name, value, NULL, NULL, NULL, NULL, NULL, NULL, 0"
      " FROM change_properties WHERE change_id = ?1"
      " ORDER BY 1, 2, 3";
  Statement s = stmt(kSelect);
  s.bind(1, id);
  if (!s.step() || s.getInt(0) != 0) return std::nullopt;  // no such change (rows of it alone: none)
  ChangeRecord c;
  c.id = id;
  c.author = s.getText(2);
  c.comments = s.getText(3);
  c.branch = s.getText(4);
  c.revision = s.getText(5);
  c.repository = s.getText(6);
  c.project = s.getText(7);
  c.category = s.getText(8);
  c.source = s.getText(9);
  c.when = s.getInt(10);
  while (s.step()) {
    if (s.getInt(0) == 1)
      c.files.push_back(s.getText(2));
    else
      c.properties[s.getText(2)] = s.getJson(3);
  }
  return c;
}

std::vector<ChangeRecord> Database::recentChanges(int limit) {
  static constexpr char kIds[] = "SELECT id FROM changes ORDER BY id DESC LIMIT ?1";
  std::vector<std::int64_t> ids;
  {
    Statement s = stmt(kIds);
    s.bind(1, std::int64_t{limit});
    while (s.step()) ids.push_back(s.getInt(0));
  }
  std::vector<ChangeRecord> out;
  out.reserve(ids.size());
  for (std::int64_t id : ids) {
    if (auto c = getChange(id)) out.push_back(std::move(*c));
  }
  return out;
}

std::optional<std::int64_t> Database::lastChangeId() {
  static constexpr char kMax[] = "SELECT max(id) FROM changes";
  Statement s = stmt(kMax);
  s.requireRow();
  if (s.isNull(0)) return std::nullopt;
  return s.getInt(0);
}

bool Database::hasDecision(std::int64_t changeId, const std::string& scheduler) {
  static constexpr char kSql[] = "SELECT 1 FROM change_decisions WHERE change_id = ?1 AND scheduler = ?2";
  Statement s = stmt(kSql);
  s.bind(1, changeId).bind(2, scheduler);
  return s.step();
}

std::vector<std::int64_t> Database::undecidedChangeIds(const std::string& scheduler, std::int64_t afterId,
                                                       int limit) {
  static constexpr char kSql[] =
      "SELECT c.id FROM changes c WHERE c.id > ?1 AND NOT EXISTS"
      " (SELECT 1 FROM change_decisions d WHERE d.change_id = c.id AND d.scheduler = ?2)"
      " ORDER BY c.id LIMIT ?3";
  Statement s = stmt(kSql);
  s.bind(1, afterId).bind(2, scheduler).bind(3, std::int64_t{limit});
  std::vector<std::int64_t> ids;
  while (s.step()) ids.push_back(s.getInt(0));
  return ids;
}

void Database::recordDecision(const ChangeDecision& d) {
  static constexpr char kSql[] =
      "INSERT INTO change_decisions (change_id, scheduler, decision, reason)"
      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (change_id, scheduler)"
      " DO UPDATE SET decision = excluded.decision, reason = excluded.reason";
  Statement s = stmt(kSql);
  s.bind(1, d.changeId);
  s.bind(2, d.scheduler);
  s.bind(3, d.decision);
  s.bind(4, d.reason);
  s.run();
}

std::vector<ChangeDecision> Database::decisionsForChange(std::int64_t changeId) {
  static constexpr char kSql[] =
      "SELECT change_id, scheduler, decision, reason FROM change_decisions"
      " WHERE change_id = ?1 ORDER BY scheduler";
  Statement s = stmt(kSql);
  s.bind(1, changeId);
  std::vector<ChangeDecision> out;
  while (s.step()) out.push_back({s.getInt(0), s.getText(1), s.getText(2), s.getText(3)});
  return out;
}

}  // namespace bb::db
