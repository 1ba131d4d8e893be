#pragma once
// The JSON views of every entity the master shows: one function per
// entity, shared by the client protocol (RpcHandler), the events' data and
// (later) the HTTP API, so a field has one name and one meaning
// everywhere. Views read the database and live components; they never
// change anything. docs/protocol.md §7 describes each shape.
#include <cstdint>
#include <string>

#include "common/message.hpp"  // Json
#include "config/master_config.hpp"
#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class Scheduler;
class SlaveRegistry;

// --- builds (build_views.cpp) ---
// BUILD: {id, number, builder, request_id, slave, started_at, finished_at,
// finished, result ("running" until finished), text, properties}.
// Plus `waiting` for a running build that waits for locks (what for, who
// holds them), `try: {job_id, owner, comment}` for a try build, and
// `logs_removed` (RETENTION_REMOVAL) once the retention janitor deleted
// the text of its logs.
Json buildView(const db::BuildRecord& b);
// {job_id, owner, comment} for the properties of a try build (they hold
// try_job_id), null otherwise.
Json tryView(const Json& properties);
// A try build never counts as its builder's last result (badge, mail's
// change/problem modes): it built a patch that has not landed.
bool isTryBuild(const db::BuildRecord& b);
// The same, plus `request: {id, result, text}` for a `retry` build whose
// request has ended since (it gave up after its retries, or was cancelled),
// and for a running build `estimated_duration` (the nearest-rank median of
// the builder's last 20 passed builds, seconds) and `eta_seconds` (what is
// left of it, 0 when overdue); both absent without a passed build.
Json buildView(db::Database& db, const db::BuildRecord& b);
// A step with its logs: {number, name, result, text, started_at,
// finished_at, finished, logs: [LOG], urls: [{name, url}]}.
Json stepView(db::Database& db, const db::StepRecord& s);
// A build's named URLs: its steps' URLs in step order (as Buildbot shows
// them), [{name, url}].
Json buildUrls(const std::vector<db::StepRecord>& steps);
// LOG: {id, name, bytes, finished}, plus `removed` (RETENTION_REMOVAL)
// once the retention janitor deleted its text.
Json logView(const db::LogRecord& l);
// ARTIFACT (artifact_views.cpp): {id, build_id, builder, number, name,
// kind ("file" | "directory"), size, sha256, mode ("0644"), created_at,
// url ("api/v2/builds/ID/artifacts/NAME", relative to the master's URL)},
// plus `removed` (RETENTION_REMOVAL) once the janitor deleted its file.
Json artifactView(const db::ArtifactRecord& a);
// RETENTION_REMOVAL: {at, by (the rule, "logs.max_age_days=30"), text
// ("removed by retention at 2026-01-02 03:04:05 UTC (logs.max_age_days=30)")}.
Json retentionRemovalView(std::int64_t at, const std::string& rule);
std::string retentionRemovalText(std::int64_t at, const std::string& rule);
Json artifactsView(db::Database& db, std::int64_t buildId);
// A build with its steps, its artifacts, its URLs (buildUrls), trigger links
// (triggered_by, triggered) and failure (buildFailureView, 20 lines).
Json buildDetailView(db::Database& db, const db::BuildRecord& b);
// Why a build failed (build_failure.cpp): for a finished build whose
// result is failure or exception, the first step that failed (or raised
// an exception) {step: N, name, result, text, log: NAME, log_tail: "last
// lines\n"}, log and log_tail of its last log with any text, read from
// the log's end. null for any other build, or when no step failed (the
// build's own text says why).
Json buildFailureView(db::Database& db, const db::BuildRecord& b, int tailLines);
// REQUEST: {id, builder, priority, complete, claimed, result ("pending"
// until complete), builds: [BUILD], replaced_by?, text?}.
Json requestView(db::Database& db, const db::BuildRequestRecord& r);
// A pending request as the queue shows it: {id, buildset_id, priority,
// submitted_at, retries}.
Json pendingRequestView(const db::BuildRequestRecord& r);
// BUILDSET: {id, reason, scheduler, complete, result, submitted_at, requests: [REQUEST]},
// plus `patch: {level, author, comment, job_id, bytes}` for a try BuildSet.
Json buildsetView(db::Database& db, const db::BuildsetRecord& bs);

// --- everything else (entity_views.cpp) ---
// CHANGE: {id, author, branch, revision, repository, source, comments,
// files, when}.
Json changeView(const db::ChangeRecord& c);
// SLAVE: {name, state: connected|draining|offline, builds, max_builds,
// backoff_seconds}.
Json slaveView(const SlaveEntry& cfg, const SlaveRegistry* live);
// SCHEDULER: {name, type, builders, ...what the scheduler says of its own
// state (Scheduler::describe)}.
Json schedulerView(const Scheduler& s);

// "success", ..., or `unfinished` while it has no result yet.
std::string resultText(bool finished, Result r, const char* unfinished);

}  // namespace bb
