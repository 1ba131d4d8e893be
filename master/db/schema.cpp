// Schema versions and migrations. To add version N+1: write its script and
// append it to migrations(); upgrade() does the rest.
//
// The scripts are written once for every engine: {{ID}}, {{BLOB}} and
// {{CLUSTERED}} are the engine's words (master/db/dialect.hpp), and every
// 64-bit integer column (ids, times, sizes) is BIGINT. For SQLite the
// expansion is the same schema as it always was (BIGINT has INTEGER
// affinity; {{ID}} is the rowid), so databases made before the dialect
// layer and after it are alike.
#include <string>
#include <utility>
#include <vector>

#include "master/db/database.hpp"
#include "master/db/engine.hpp"
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
  id {{ID}},
  author TEXT NOT NULL,
  comments TEXT NOT NULL,
  branch TEXT NOT NULL,
  revision TEXT NOT NULL,
  repository TEXT NOT NULL,
  project TEXT NOT NULL,
  category TEXT NOT NULL,
  source TEXT NOT NULL,
  when_at BIGINT NOT NULL
);
CREATE TABLE change_files (
  change_id BIGINT NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  path TEXT NOT NULL,
  PRIMARY KEY (change_id, seq)
) {{CLUSTERED}};
CREATE TABLE change_properties (
  change_id BIGINT NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (change_id, name)
) {{CLUSTERED}};

-- The sourcestamp is stored on the buildset (one per buildset).
CREATE TABLE buildsets (
  id {{ID}},
  reason TEXT NOT NULL,
  scheduler TEXT NOT NULL,
  ss_repository TEXT NOT NULL,
  ss_branch TEXT NOT NULL,
  ss_revision TEXT NOT NULL,
  ss_project TEXT NOT NULL,
  properties TEXT NOT NULL,
  submitted_at BIGINT NOT NULL,
  complete INTEGER NOT NULL DEFAULT 0,
  complete_at BIGINT NOT NULL DEFAULT 0,
  result INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE buildset_changes (
  buildset_id BIGINT NOT NULL REFERENCES buildsets(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  change_id BIGINT NOT NULL REFERENCES changes(id),
  PRIMARY KEY (buildset_id, seq)
) {{CLUSTERED}};
CREATE INDEX buildset_changes_by_change ON buildset_changes (change_id, buildset_id);

CREATE TABLE buildrequests (
  id {{ID}},
  buildset_id BIGINT NOT NULL REFERENCES buildsets(id) ON DELETE CASCADE,
  builder TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  submitted_at BIGINT NOT NULL,
  claimed INTEGER NOT NULL DEFAULT 0,
  claimed_at BIGINT NOT NULL DEFAULT 0,
  complete INTEGER NOT NULL DEFAULT 0,
  result INTEGER NOT NULL DEFAULT 0,
  complete_at BIGINT NOT NULL DEFAULT 0,
  retries INTEGER NOT NULL DEFAULT 0
);
-- pendingRequests(): only the pending rows are in the index, already in order.
CREATE INDEX buildrequests_pending ON buildrequests (priority DESC, submitted_at, id)
  WHERE complete = 0 AND claimed = 0;
CREATE INDEX buildrequests_by_buildset ON buildrequests (buildset_id);

CREATE TABLE builds (
  id {{ID}},
  request_id BIGINT REFERENCES buildrequests(id) ON DELETE SET NULL,
  builder TEXT NOT NULL,
  number INTEGER NOT NULL,
  slave TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL DEFAULT 0,
  finished INTEGER NOT NULL DEFAULT 0,
  result INTEGER NOT NULL DEFAULT 0,
  text TEXT NOT NULL DEFAULT '',
  properties TEXT NOT NULL DEFAULT '{}',
  UNIQUE (builder, number)
);
CREATE INDEX builds_by_request ON builds (request_id);

CREATE TABLE steps (
  id {{ID}},
  build_id BIGINT NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  name TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL DEFAULT 0,
  finished INTEGER NOT NULL DEFAULT 0,
  result INTEGER NOT NULL DEFAULT 0,
  text TEXT NOT NULL DEFAULT '',
  UNIQUE (build_id, number)
);

CREATE TABLE logs (
  id {{ID}},
  step_id BIGINT NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0,
  bytes BIGINT NOT NULL DEFAULT 0,
  chunks INTEGER NOT NULL DEFAULT 0,
  UNIQUE (step_id, name)
);
-- Not a clustered table: chunk rows hold large blobs.
CREATE TABLE log_chunks (
  log_id BIGINT NOT NULL REFERENCES logs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  stream INTEGER NOT NULL CHECK (stream BETWEEN 0 AND 2),
  raw_size BIGINT NOT NULL,
  compressed {{BLOB}} NOT NULL,
  PRIMARY KEY (log_id, seq)
);

CREATE TABLE object_state (
  object TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (object, key)
) {{CLUSTERED}};

CREATE TABLE slaves (
  name TEXT PRIMARY KEY,
  info TEXT NOT NULL DEFAULT '{}',
  connected INTEGER NOT NULL DEFAULT 0,
  last_seen BIGINT NOT NULL DEFAULT 0,
  last_connected BIGINT NOT NULL DEFAULT 0,
  last_disconnected BIGINT NOT NULL DEFAULT 0
) {{CLUSTERED}};
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
) {{CLUSTERED}};
)sql";

// Version 3: triggered BuildSets link to the build that triggered them;
// a request ended without a build (cancelled, or collapsed into a newer
// one) says why and, when collapsed, which request replaced it.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE buildsets ADD COLUMN parent_build_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX buildsets_by_parent ON buildsets (parent_build_id) WHERE parent_build_id != 0;
ALTER TABLE buildrequests ADD COLUMN replaced_by BIGINT NOT NULL DEFAULT 0;
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

// Version 5: master identities. Each master has a row (registered at start,
// heartbeat on a timer); a request is claimed by a master and a build
// belongs to one. NULL in claimed_by / master_id: claimed or started
// before masters had identities (a master adopts those at recovery).
constexpr char kSchemaV5[] = R"sql(
CREATE TABLE masters (
  id {{ID}},
  name TEXT NOT NULL UNIQUE,
  active INTEGER NOT NULL DEFAULT 0,
  started_at BIGINT NOT NULL DEFAULT 0,
  last_heartbeat BIGINT NOT NULL DEFAULT 0
);
ALTER TABLE buildrequests ADD COLUMN claimed_by BIGINT REFERENCES masters(id);
ALTER TABLE builds ADD COLUMN master_id BIGINT REFERENCES masters(id);
)sql";

// Version 6: a try job's patch on a buildset's source stamp. The job id
// is unique, so a job whose BuildSet is committed is never built twice.
constexpr char kSchemaV6[] = R"sql(
CREATE TABLE buildset_patches (
  buildset_id BIGINT PRIMARY KEY REFERENCES buildsets(id) ON DELETE CASCADE,
  patch_level INTEGER NOT NULL,
  body {{BLOB}} NOT NULL,
  author TEXT NOT NULL,
  comment TEXT NOT NULL,
  try_job_id TEXT UNIQUE
) {{CLUSTERED}};
)sql";

// Version 7: a step's named URLs ([{name, url}] as JSON text, as
// Buildbot's urls_json): from its config (`urls:`) and from the command's
// `##buildbot-url` lines.
constexpr char kSchemaV7[] = R"sql(
ALTER TABLE steps ADD COLUMN urls TEXT NOT NULL DEFAULT '[]';
)sql";

// Version 8: build statistics. Lock waits per build (its locks and its
// steps', as the lock_wait_seconds property) and per step, in
// milliseconds; the weekly summaries that cleanupdb writes before it
// deletes builds (step '' is the whole build; *_hist are the
// StatsHistogram of master/db/stats_records.hpp as JSON); and the index the
// stats queries read builds by (start time, per builder or all).
constexpr char kSchemaV8[] = R"sql(
ALTER TABLE builds ADD COLUMN lock_wait_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE steps ADD COLUMN lock_wait_ms BIGINT NOT NULL DEFAULT 0;
CREATE TABLE build_stats_weekly (
  builder TEXT NOT NULL,
  step TEXT NOT NULL,
  week BIGINT NOT NULL,
  builds BIGINT NOT NULL,
  counted BIGINT NOT NULL,
  passed BIGINT NOT NULL,
  duration_sum BIGINT NOT NULL,
  duration_max BIGINT NOT NULL,
  duration_hist TEXT NOT NULL,
  queue_count BIGINT NOT NULL,
  queue_sum BIGINT NOT NULL,
  queue_max BIGINT NOT NULL,
  queue_hist TEXT NOT NULL,
  lock_wait_sum BIGINT NOT NULL,
  lock_wait_max BIGINT NOT NULL,
  lock_wait_hist TEXT NOT NULL,
  PRIMARY KEY (builder, step, week)
) {{CLUSTERED}};
CREATE INDEX builds_by_builder_start ON builds (builder, started_at);
CREATE INDEX builds_by_start ON builds (started_at);
)sql";

// Version 9: artifacts a build's upload steps stored under
// DIR/artifacts/BUILDER/NUMBER/NAME (master/artifacts/), with their size
// and SHA-256; kind is "file" or "directory" (a tar stream, zstd).
constexpr char kSchemaV9[] = R"sql(
CREATE TABLE artifacts (
  id {{ID}},
  build_id BIGINT NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  mode INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (build_id, name)
);
)sql";

// Version 10: what the retention janitor removed
// (master/artifacts/retention.cpp). An artifact whose file it deleted keeps
// its row, marked with when and by which rule; a build whose logs' text it
// deleted says so (the log rows stay, their chunks go). The partial indexes
// hold only what is still kept, so each round reads what it may delete
// without walking everything it already removed.
constexpr char kSchemaV10[] = R"sql(
ALTER TABLE artifacts ADD COLUMN removed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE artifacts ADD COLUMN removed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE builds ADD COLUMN logs_removed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN logs_removed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX artifacts_kept ON artifacts (created_at) WHERE removed_at = 0;
CREATE INDEX builds_logs_kept ON builds (builder, number) WHERE logs_removed_at = 0;
)sql";

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

// Version 11: scheduler ownership, for several masters on one database.
// A scheduler that keeps timers or holds changes runs on exactly one master
// at a time: the one named here (NULL: released, the next master to claim
// it takes it). A claim is one conditional upsert (scheduler_owners_db.cpp).
constexpr char kSchemaV11[] = R"sql(
CREATE TABLE scheduler_owners (
  name TEXT PRIMARY KEY,
  master_id BIGINT REFERENCES masters(id),
  claimed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX scheduler_owners_by_master ON scheduler_owners (master_id);
)sql";

// Version 12: master-scoped locks held through the database, for several
// masters on one database (locks_db.cpp). master_locks has one row per lock:
// how many owners hold it and whether one holds it exclusively; a grant is
// one conditional UPDATE of that row, so the total across masters never
// passes the limit. master_lock_holders says who (which owner, on which
// master), so a dead master's holds can be dropped and status can show them.
constexpr char kSchemaV12[] = R"sql(
CREATE TABLE master_locks (
  name TEXT PRIMARY KEY,
  holders INTEGER NOT NULL DEFAULT 0 CHECK (holders >= 0),
  exclusive_held INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE master_lock_holders (
  lock_name TEXT NOT NULL REFERENCES master_locks(name),
  master_id BIGINT NOT NULL REFERENCES masters(id),
  owner TEXT NOT NULL,
  hold_mode INTEGER NOT NULL,
  since BIGINT NOT NULL,
  PRIMARY KEY (lock_name, master_id, owner)
);
CREATE INDEX master_lock_holders_by_master ON master_lock_holders (master_id);
)sql";

// Version 13: reports claimed, for several masters on one database. A
// reporter on any master hears of every master's builds; before it reports
// one it inserts (reporter, subject) here, and only the master whose
// insert made the row goes on, so a build is reported once however many
// masters run that reporter (report_claims_db.cpp). Rows older than a day
// are deleted, at most once an hour, by the next claim.
constexpr char kSchemaV13[] = R"sql(
CREATE TABLE report_claims (
  reporter TEXT NOT NULL,
  subject TEXT NOT NULL,
  master_id BIGINT NOT NULL,
  claimed_at BIGINT NOT NULL,
  PRIMARY KEY (reporter, subject)
);
CREATE INDEX report_claims_by_time ON report_claims (claimed_at);
)sql";

// Version 14: exclusive claims waiting on several masters (locks_db.cpp).
// A master whose exclusive claim of a lock was refused marks that it waits
// (and marks again at each retry); while a fresh mark of another active
// master stands, a master takes no new counting hold of that lock, so the
// lock drains and the exclusive claim wins instead of being starved by a
// stream of counting holds that always overlap.
constexpr char kSchemaV14[] = R"sql(
CREATE TABLE master_lock_waiters (
  lock_name TEXT NOT NULL,
  master_id BIGINT NOT NULL REFERENCES masters(id),
  since BIGINT NOT NULL,
  PRIMARY KEY (lock_name, master_id)
);
)sql";

// Version 15: the deadlock rule across masters (lock_plans_db.cpp). Each
// running build that holds build locks stores its lock plan; a master
// admits a build only if, with the other masters' plans, no cycle of lock
// waits can form. Admissions take turns on the one row of lock_plan_gate.
constexpr char kSchemaV15[] = R"sql(
CREATE TABLE master_lock_plans (
  master_id BIGINT NOT NULL REFERENCES masters(id),
  build_key BIGINT NOT NULL,
  plan TEXT NOT NULL,
  since BIGINT NOT NULL,
  PRIMARY KEY (master_id, build_key)
);
CREATE TABLE lock_plan_gate (
  id INTEGER PRIMARY KEY,
  turns BIGINT NOT NULL
);
INSERT INTO lock_plan_gate (id, turns) VALUES (1, 0);
)sql";

// Version 16: big log chunks outside the database (log_files.hpp). A chunk
// whose bytes are in its log's file has file_offset and file_bytes set and
// an empty compressed blob; older chunks, small ones and every chunk on a
// shared database (PostgreSQL) keep their bytes in the row.
constexpr char kSchemaV16[] = R"sql(
ALTER TABLE log_chunks ADD COLUMN file_offset BIGINT;
ALTER TABLE log_chunks ADD COLUMN file_bytes BIGINT;
)sql";

// Version 17: whether a master has anyone (a watcher, an event stream, a
// reporter) for the other masters' builds. The others send their status
// notifications (bb_status) only while an active master wants them
// (cluster_events.hpp); a master from before this version counts as one
// that does.
constexpr char kSchemaV17[] = R"sql(
ALTER TABLE masters ADD COLUMN wants_status INTEGER NOT NULL DEFAULT 1;
)sql";

// Version 18: whether a master wants the changes the others accept (a
// scheduler that runs on one master) and the BuildSets they complete (a
// dependent, a trigger wait, a watcher, a reporter). The others announce
// those (bb_change, bb_buildset_done) only to the masters that want them
// (cluster_events.hpp); a master from before this version counts as one
// that does.
constexpr char kSchemaV18[] = R"sql(
ALTER TABLE masters ADD COLUMN wants_changes INTEGER NOT NULL DEFAULT 1;
ALTER TABLE masters ADD COLUMN wants_buildsets INTEGER NOT NULL DEFAULT 1;
)sql";

const std::vector<Database::MigrationStep>& Database::migrations() {
  // Element i migrates from version i to version i + 1.
  static const std::vector<MigrationStep> kSteps = {
      {1, [](Database& db) { db.execScript(kSchemaV1, "creating schema version 1"); }},
      {2, [](Database& db) { db.execScript(kSchemaV2, "adding change_decisions (version 2)"); }},
      {3, [](Database& db) {
         db.execScript(kSchemaV3, "adding buildset parents and request outcomes (version 3)");
       }},
      {4, [](Database& db) { db.migratePendingChangeRows(); }},
      {5, [](Database& db) { db.execScript(kSchemaV5, "adding master identities (version 5)"); }},
      {6, [](Database& db) { db.execScript(kSchemaV6, "adding try patches (version 6)"); }},
      {7, [](Database& db) { db.execScript(kSchemaV7, "adding step URLs (version 7)"); }},
      {8, [](Database& db) { db.execScript(kSchemaV8, "adding build statistics (version 8)"); }},
      {9, [](Database& db) { db.execScript(kSchemaV9, "adding artifacts (version 9)"); }},
      {10, [](Database& db) { db.execScript(kSchemaV10, "adding retention marks (version 10)"); }},
      {11, [](Database& db) { db.execScript(kSchemaV11, "adding scheduler owners (version 11)"); }},
      {12, [](Database& db) { db.execScript(kSchemaV12, "adding master locks (version 12)"); }},
      {13, [](Database& db) { db.execScript(kSchemaV13, "adding report claims (version 13)"); }},
      {14, [](Database& db) { db.execScript(kSchemaV14, "adding lock waiters (version 14)"); }},
      {15, [](Database& db) { db.execScript(kSchemaV15, "adding lock plans (version 15)"); }},
      {16, [](Database& db) { db.execScript(kSchemaV16, "adding log files (version 16)"); }},
      {17, [](Database& db) {
         db.execScript(kSchemaV17, "adding which masters want the others' status (version 17)");
       }},
      {18, [](Database& db) {
         db.execScript(kSchemaV18, "adding which masters want the others' changes and BuildSets (version 18)");
       }},
  };
  return kSteps;
}

int Database::latestSchemaVersion() { return static_cast<int>(migrations().size()); }

int Database::schemaVersion() {
  static constexpr char kVersion[] = "SELECT version FROM schema_version WHERE id = 1";
  {
    Statement s = stmt(engine_->dialect().tableExists);
    s.bind(1, std::string_view("schema_version"));
    s.requireRow();
    if (s.getInt(0) == 0) return 0;
  }
  Statement s = stmt(kVersion);
  if (!s.step())
    throw DbError("corrupt database " + path_ + ": table schema_version has no row",
                  DbErrorKind::Corrupt);
  return static_cast<int>(s.getInt(0));
}

void Database::upgradeTo(int target) {
  static constexpr char kSetVersion[] =
      "INSERT INTO schema_version (id, version) VALUES (1, ?1) "
      "ON CONFLICT (id) DO UPDATE SET version = excluded.version";
  const int latest = latestSchemaVersion();
  const int current = schemaVersion();
  if (current > latest) {
    throw DbError("database " + path_ + " has schema version " + std::to_string(current) +
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
