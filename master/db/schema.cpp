// Schema versions and migrations. To add version N+1: write a migrateToN1
// function and append it to migrations(); upgrade() does the rest.
#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

// Version 1: the initial schema. Booleans are INTEGER 0/1, times unix
// seconds, results the numeric bb::Result, JSON stored as text.
// Every index is a page written per commit on the hot path, so only hot
// queries get one; startup-only queries (unfinished builds, incomplete
// buildsets, claimed requests) scan.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE schema_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);

CREATE TABLE changes (
  id INTEGER PRIMARY KEY,
  author TEXT NOT NULL,
  comments TEXT NOT NULL,
  branch TEXT NOT NULL,
  revision TEXT NOT NULL,
  repository TEXT NOT NULL,
  project TEXT NOT NULL,
  category TEXT NOT NULL,
  source TEXT NOT NULL,
  when_at INTEGER NOT NULL
);
CREATE TABLE change_files (
  change_id INTEGER NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  path TEXT NOT NULL,
  PRIMARY KEY (change_id, seq)
) WITHOUT ROWID;
CREATE TABLE change_properties (
  change_id INTEGER NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (change_id, name)
) WITHOUT ROWID;

-- The sourcestamp is stored on the buildset (one per buildset).
CREATE TABLE buildsets (
  id INTEGER PRIMARY KEY,
  reason TEXT NOT NULL,
  scheduler TEXT NOT NULL,
  ss_repository TEXT NOT NULL,
  ss_branch TEXT NOT NULL,
  ss_revision TEXT NOT NULL,
  ss_project TEXT NOT NULL,
  properties TEXT NOT NULL,
  submitted_at INTEGER NOT NULL,
  complete INTEGER NOT NULL DEFAULT 0,
  complete_at INTEGER NOT NULL DEFAULT 0,
  result INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE buildset_changes (
  buildset_id INTEGER NOT NULL REFERENCES buildsets(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  change_id INTEGER NOT NULL REFERENCES changes(id),
  PRIMARY KEY (buildset_id, seq)
) WITHOUT ROWID;
CREATE INDEX buildset_changes_by_change ON buildset_changes (change_id, buildset_id);

CREATE TABLE buildrequests (
  id INTEGER PRIMARY KEY,
  buildset_id INTEGER NOT NULL REFERENCES buildsets(id) ON DELETE CASCADE,
  builder TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  submitted_at INTEGER NOT NULL,
  claimed INTEGER NOT NULL DEFAULT 0,
  claimed_at INTEGER NOT NULL DEFAULT 0,
  complete INTEGER NOT NULL DEFAULT 0,
  result INTEGER NOT NULL DEFAULT 0,
  complete_at INTEGER NOT NULL DEFAULT 0,
  retries INTEGER NOT NULL DEFAULT 0
);
-- pendingRequests(): only the pending rows are in the index, already in order.
CREATE INDEX buildrequests_pending ON buildrequests (priority DESC, submitted_at, id)
  WHERE complete = 0 AND claimed = 0;
CREATE INDEX buildrequests_by_buildset ON buildrequests (buildset_id);

CREATE TABLE builds (
  id INTEGER PRIMARY KEY,
  request_id INTEGER REFERENCES buildrequests(id) ON DELETE SET NULL,
  builder TEXT NOT NULL,
  number INTEGER NOT NULL,
  slave TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0,
  finished INTEGER NOT NULL DEFAULT 0,
  result INTEGER NOT NULL DEFAULT 0,
  text TEXT NOT NULL DEFAULT '',
  properties TEXT NOT NULL DEFAULT '{}',
  UNIQUE (builder, number)
);
CREATE INDEX builds_by_request ON builds (request_id);

CREATE TABLE steps (
  id INTEGER PRIMARY KEY,
  build_id INTEGER NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  name TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0,
  finished INTEGER NOT NULL DEFAULT 0,
  result INTEGER NOT NULL DEFAULT 0,
  text TEXT NOT NULL DEFAULT '',
  UNIQUE (build_id, number)
);

CREATE TABLE logs (
  id INTEGER PRIMARY KEY,
  step_id INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  chunks INTEGER NOT NULL DEFAULT 0,
  UNIQUE (step_id, name)
);
-- A rowid table (not WITHOUT ROWID): chunk rows hold large blobs.
CREATE TABLE log_chunks (
  log_id INTEGER NOT NULL REFERENCES logs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  stream INTEGER NOT NULL CHECK (stream BETWEEN 0 AND 2),
  raw_size INTEGER NOT NULL,
  compressed BLOB NOT NULL,
  PRIMARY KEY (log_id, seq)
);

CREATE TABLE object_state (
  object TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (object, key)
) WITHOUT ROWID;

CREATE TABLE slaves (
  name TEXT PRIMARY KEY,
  info TEXT NOT NULL DEFAULT '{}',
  connected INTEGER NOT NULL DEFAULT 0,
  last_seen INTEGER NOT NULL DEFAULT 0,
  last_connected INTEGER NOT NULL DEFAULT 0,
  last_disconnected INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql";


// Version 2: what each scheduler decided about each change, for the
// per-change status ("built by / waiting in / ignored by").
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE change_decisions (
  change_id INTEGER NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
  scheduler TEXT NOT NULL,
  decision TEXT NOT NULL CHECK (decision IN ('important', 'unimportant', 'ignored')),
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (change_id, scheduler)
) WITHOUT ROWID;
)sql";

// Version 3: triggered BuildSets link to the build that triggered them;
// a request ended without a build (cancelled, or collapsed into a newer
// one) says why and, when collapsed, which request replaced it.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE buildsets ADD COLUMN parent_build_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX buildsets_by_parent ON buildsets (parent_build_id) WHERE parent_build_id != 0;
ALTER TABLE buildrequests ADD COLUMN replaced_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE buildrequests ADD COLUMN complete_text TEXT NOT NULL DEFAULT '';
)sql";

// Version 4: schedulers hold each pending change in its own object_state
// row ("pending-change:ID"); older masters listed them inside the
// scheduler's "pending" state. single_branch and nightly wrote
// {changes: [ids], important, fire_at_ms}; any_branch wrote a list of
// {repository, branch, changes: [ids], important, fire_at_ms}. The shape,
// not the scheduler's type (which the database does not know), says which.
constexpr char kOldPendingStates[] =
    "SELECT object, value FROM object_state WHERE key = 'pending' AND object LIKE 'scheduler:%'";

void addPendingRows(Database& db, const std::string& object, const Json& ids, const Json& info) {
  if (!ids.is_array()) return;
  for (const auto& id : ids)
    if (id.is_number_integer())
      db.setState(object, "pending-change:" + std::to_string(id.get<std::int64_t>()), info);
}

}  // namespace

void Database::migratePendingChangeRows() {
  std::vector<std::pair<std::string, Json>> old;
  {
    Statement s = stmt(kOldPendingStates);
    while (s.step()) old.emplace_back(s.getText(0), s.getJson(1));
  }
  for (auto& [object, state] : old) {
    if (state.is_object() && state.contains("changes")) {
      addPendingRows(*this, object, state["changes"], Json::object());
      state.erase("changes");
      setState(object, "pending", state);
    } else if (state.is_array()) {
      bool changed = false;
      for (auto& entry : state) {
        if (!entry.is_object() || !entry.contains("changes")) continue;
        addPendingRows(*this, object, entry["changes"],
                       Json{{"repository", entry.value("repository", "")},
                            {"branch", entry.value("branch", "")}});
        entry.erase("changes");
        changed = true;
      }
      if (changed) setState(object, "pending", state);
    }
  }
}

const std::vector<Database::MigrationStep>& Database::migrations() {
  // Element i migrates from version i to version i + 1.
  static const std::vector<MigrationStep> kSteps = {
      {1, [](Database& db) { db.execScript(kSchemaV1, "creating schema version 1"); }},
      {2, [](Database& db) { db.execScript(kSchemaV2, "adding change_decisions (version 2)"); }},
      {3, [](Database& db) {
         db.execScript(kSchemaV3, "adding buildset parents and request outcomes (version 3)");
       }},
      {4, [](Database& db) { db.migratePendingChangeRows(); }},
  };
  return kSteps;
}

int Database::latestSchemaVersion() { return static_cast<int>(migrations().size()); }

int Database::schemaVersion() {
  static constexpr char kHasTable[] =
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'";
  static constexpr char kVersion[] = "SELECT version FROM schema_version WHERE id = 1";
  {
    Statement s = stmt(kHasTable);
    s.requireRow();
    if (s.getInt(0) == 0) return 0;
  }
  Statement s = stmt(kVersion);
  if (!s.step()) throw DbError("corrupt database: table schema_version has no row");
  return static_cast<int>(s.getInt(0));
}

void Database::upgrade() { upgradeTo(latestSchemaVersion()); }

void Database::upgradeTo(int target) {
  static constexpr char kSetVersion[] =
      "INSERT INTO schema_version (id, version) VALUES (1, ?1) "
      "ON CONFLICT (id) DO UPDATE SET version = excluded.version";
  const int latest = latestSchemaVersion();
  const int current = schemaVersion();
  if (current > latest) {
    throw DbError("database schema is version " + std::to_string(current) +
                  ", newer than this buildmaster supports (" + std::to_string(latest) +
                  "); use a newer buildmaster");
  }
  if (target < 0 || target > latest)
    throw DbError("no schema version " + std::to_string(target) + " (latest is " +
                  std::to_string(latest) + ")");
  for (int v = current; v < target; ++v) {
    const MigrationStep& step = migrations()[static_cast<std::size_t>(v)];
    transaction([&] {
      step.apply(*this);
      stmt(kSetVersion).bind(1, std::int64_t{step.toVersion}).run();
    });
  }
}

void Database::requireCurrentSchema() {
  const int current = schemaVersion();
  const int latest = latestSchemaVersion();
  if (current == latest) return;
  if (current > latest) {
    throw DbError("database schema is version " + std::to_string(current) +
                  ", newer than this buildmaster supports (" + std::to_string(latest) +
                  "); use a newer buildmaster");
  }
  throw DbError("database schema is version " + std::to_string(current) +
                " but this buildmaster needs " + std::to_string(latest) +
                "; run `buildmaster upgrade-master DIR`");
}

}  // namespace bb::db
