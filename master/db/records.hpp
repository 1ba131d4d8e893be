#pragma once
// Plain records read from and written to the master's database.
// Times are unix seconds as given by the caller; ids are assigned by the
// database on insert (> 0; 0 means "none").
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/message.hpp"
#include "common/results.hpp"

namespace bb::db {

using Json = nlohmann::json;
using Result = bb::Result;

// A master's identity: the id of its row in the masters table. A type of
// its own so it cannot be passed where a request or build id is meant.
struct MasterId {
  std::int64_t value = 0;
  friend bool operator==(MasterId, MasterId) = default;
};

struct ChangeRecord {
  std::int64_t id = 0;
  std::string author, comments, branch, revision, repository, project, category;
  std::string source;  // e.g. "sendchange", "git_poller:app"
  std::int64_t when = 0;
  std::vector<std::string> files;
  Json properties = Json::object();
};

// A try job's patch on a source stamp (docs/try.md): applied by the
// checkout step after the revision is checked out.
struct SourcePatch {
  int level = 1;     // path components to strip
  std::string body;  // the diff's bytes
  std::string who, comment;
  std::string jobId;  // unique among stored patches ("" : none given)
};

struct SourceStamp {
  std::string repository, branch, revision, project;
  std::vector<std::int64_t> changeIds;  // in the order given to addBuildset
  // Written by addBuildset; getBuildset() leaves it null (the body can be
  // large): read it with Database::getBuildsetPatch().
  std::shared_ptr<const SourcePatch> patch;
};

struct BuildsetRecord {
  std::int64_t id = 0;
  std::string reason, scheduler;
  SourceStamp sourcestamp;
  Json properties = Json::object();
  std::int64_t submittedAt = 0;
  bool complete = false;
  std::int64_t completeAt = 0;
  Result result = Result::Success;
  std::int64_t parentBuildId = 0;  // the build whose trigger step made it (0: none)
};

struct BuildRequestRecord {
  std::int64_t id = 0, buildsetId = 0;
  std::string builder;
  int priority = 0;
  std::int64_t submittedAt = 0;
  bool claimed = false;
  std::int64_t claimedAt = 0;
  std::int64_t claimedBy = 0;  // the master that claimed it (0: none, or claimed before masters had ids)
  bool complete = false;
  Result result = Result::Success;
  std::int64_t completeAt = 0;
  int retries = 0;
  std::int64_t replacedBy = 0;  // collapsed (SKIPPED) into this newer request
  std::string completeText;     // why it ended without a build, e.g. "cancelled by alice"
};

struct BuildRecord {
  std::int64_t id = 0, requestId = 0;  // requestId 0: a build without a request
  std::string builder;
  int number = 0;
  std::string slave;
  std::int64_t masterId = 0;  // the master that runs it (0: started before masters had ids)
  std::int64_t startedAt = 0, finishedAt = 0;
  bool finished = false;
  Result result = Result::Success;
  std::string text;
  Json properties = Json::object();
  // The retention janitor deleted the text of its logs at this time (0:
  // kept), by the rule `logsRemovedBy` ("logs.max_age_days=30").
  std::int64_t logsRemovedAt = 0;
  std::string logsRemovedBy;
};

struct StepRecord {
  std::int64_t id = 0, buildId = 0;
  int number = 0;
  std::string name;
  std::int64_t startedAt = 0, finishedAt = 0;
  bool finished = false;
  Result result = Result::Success;
  std::string text;
  Json urls = Json::array();  // [{name, url}], in the order they were added
};

// A file or directory archive an upload step stored for a build.
struct ArtifactRecord {
  std::int64_t id = 0, buildId = 0;
  std::string builder;  // of the build
  int number = 0;       // of the build
  std::string name;
  std::string kind;  // "file" | "directory"
  std::int64_t size = 0;
  std::string sha256;
  int mode = 0644;
  std::int64_t createdAt = 0;
  // The retention janitor deleted its file at this time (0: kept), by the
  // rule `removedBy` ("artifacts.max_total_mb=1024"); the row stays.
  std::int64_t removedAt = 0;
  std::string removedBy;
};

struct LogRecord {
  std::int64_t id = 0, stepId = 0;
  std::string name;
  bool finished = false;
  std::int64_t bytes = 0;  // uncompressed bytes appended so far
  int chunks = 0;
  // Its build's logsRemovedAt/By: the text is gone, the row stays.
  std::int64_t removedAt = 0;
  std::string removedBy;
};

struct BuildsetCompletion {
  std::int64_t buildsetId;
  Result result;
};

enum class CancelOutcome { Cancelled, Claimed, Complete, Unknown };

struct CancelResult {
  CancelOutcome outcome = CancelOutcome::Unknown;
  std::optional<BuildsetCompletion> completion;  // set if the cancel completed its buildset
};

// A pending request collapsed into a newer one (SKIPPED, replaced_by set).
struct CollapsedRequest {
  std::int64_t requestId = 0;
  std::optional<BuildsetCompletion> completion;
};

struct SlaveRecord {
  std::string name;
  Json info = Json::object();  // last host information the slave sent
  bool connected = false;
  std::int64_t lastSeen = 0;
  std::int64_t lastConnected = 0;
  std::int64_t lastDisconnected = 0;
};

// What a master wants to hear of the other masters' work (masters row,
// Database::setMasterWishes; cluster_events.hpp).
struct MasterWishes {
  bool status = false, changes = false, buildsets = false;
  bool operator==(const MasterWishes&) const = default;
};

// A master that shares the database: its row in the masters table.
struct MasterRecord {
  std::int64_t id = 0;
  std::string name;             // master.name in its config
  bool active = false;          // started and not stopped cleanly since
  std::int64_t startedAt = 0;
  std::int64_t lastHeartbeat = 0;
};

// What a master still holds: claimed, incomplete requests and unfinished builds.
struct MasterWork {
  MasterRecord master;
  int claimedRequests = 0;
  int unfinishedBuilds = 0;
};

// What one scheduler decided about one change.
struct ChangeDecision {
  std::int64_t changeId = 0;
  std::string scheduler;
  std::string decision;  // important | unimportant | ignored
  std::string reason;
};

// What Database::deleteHistoryBefore() deleted.
struct CleanupCounts {
  std::int64_t builds = 0, steps = 0, logs = 0, logChunks = 0, buildsets = 0;
  std::int64_t logBytes = 0;  // uncompressed log text
};

// A master-scoped lock held through the database (several masters on one
// database, locks_db.cpp): how one owner holds it.
enum class LockHold { None = 0, Counting = 1, Exclusive = 2 };

// One owner's hold on a master-scoped lock moving `from` -> `to`; `limit`
// is the lock's max_count (for a new counting hold).
struct LockHoldChange {
  std::string lock;
  std::string owner;
  int limit = 1;
  LockHold from = LockHold::None;
  LockHold to = LockHold::None;
};

// One owner holding a master-scoped lock, on the master that granted it.
struct LockHolderRecord {
  std::string lock;
  MasterId master;
  std::string masterName;
  std::string owner;
  LockHold mode = LockHold::Counting;
  std::int64_t since = 0;
};

// A running build's locks as its master stored them for the deadlock rule
// across masters (Database::admitLockPlan): `plan` is the master's own
// text (master/cluster/shared_locks.cpp writes and reads it).
struct LockPlanRecord {
  MasterId master;
  std::string masterName;
  std::int64_t key = 0;  // the build's request id on that master
  std::string plan;
};

}  // namespace bb::db
