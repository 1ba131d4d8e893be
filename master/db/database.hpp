#pragma once
// The master's database: the only place with SQL. The API speaks the
// project's records; which engine stores them (SQLite 3 in WAL mode, or
// PostgreSQL)
// is hidden behind master/db/engine.hpp, and the SQL that differs between
// engines behind master/db/dialect.hpp.
// One Database is used from one thread only (the master's io_context).
// Every failure throws bb::DbError (master/db/db_error.hpp) with its kind.
// Statements are prepared once per Database and cached, so hot calls cost
// one bind/step/reset each.
#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "master/db/db_error.hpp"
#include "master/db/list_query.hpp"
#include "master/db/records.hpp"
#include "master/db/stats_records.hpp"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace bb::db {

class Engine;
class LogFiles;
class PreparedStatement;
class Statement;

// How to open a database that may not exist yet.
enum class OpenMode {
  CreateIfMissing,  // create an empty database when there is none
  MustExist,        // throw DbError when there is none
};

// Whether `location` names a database server (postgresql://...) rather
// than a file.
bool isServerDatabase(const std::string& location);
// The password every PostgreSQL connection opened from now on gives the
// server ("": libpq finds one itself, in ~/.pgpass, PGPASSFILE's file or
// PGPASSWORD). Never part of a URL, a message or a log line.
void setServerPassword(std::string password);

class Database {
 public:
  // The embedded database (SQLite) in the file `path`, or ":memory:", with
  // foreign keys on and a 5 s wait for another process's lock; or, when
  // `path` is a postgresql:// URL, that PostgreSQL database (which must
  // exist). Does NOT migrate. Throws DbError (kind Corrupt for a file that
  // is not a database or is damaged, ConnectionLost for a server that
  // cannot be reached).
  explicit Database(const std::string& path, OpenMode mode = OpenMode::CreateIfMissing);
  // A database on an already open engine (another engine, later).
  explicit Database(std::unique_ptr<Engine> engine);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Where the data lives (the file path), for messages.
  const std::string& path() const { return path_; }
  // Where big log chunks are kept as files (path() + ".logs"), or "" when
  // every chunk stays in the database (PostgreSQL, ":memory:").
  std::string logFilesDir() const;
  // Whether several masters can share this database (PostgreSQL), and so
  // need to tell each other what they wrote (notify_db.cpp).
  bool isShared() const;

  // --- telling other masters (notify_db.cpp) ---
  // Sends `payload` on `channel` to every master that listens
  // (db_listener.hpp), delivered when the open transaction commits (at
  // once outside one). A no-op on an engine that is not shared.
  void notify(const std::string& channel, const std::string& payload);
  // Sends `payload` on `channelPrefix` + ID to each active master but
  // `self` whose stored wish (setMasterWishes) asks for changes / for
  // completed BuildSets, as that wish stands when the statement runs: one
  // statement, sent ahead like notify(). A master that raises its wish
  // after the statement ran reads what it missed from the tables.
  enum class Wish { Changes, Buildsets };
  void notifyMastersWanting(Wish wish, const std::string& channelPrefix, MasterId self,
                            const std::string& payload);

  // --- schema (schema.cpp) ---
  // 0 for an empty database.
  int schemaVersion();
  static int latestSchemaVersion();
  // Migrates step by step to the latest version, each step in its own
  // transaction. Throws if the database is newer than this program.
  void upgrade() { upgradeTo(latestSchemaVersion()); }
  // The same, up to `version` only (tests build old databases with it).
  void upgradeTo(int version);
  // Throws DbError("database schema is version N but this buildmaster needs
  // M; run `buildmaster upgrade-master DIR`") unless the schema is current.
  void requireCurrentSchema();

  // --- transactions (database.cpp) ---
  // Nested calls work: the outermost begin() opens a transaction that holds
  // the write lock at once, inner levels are
  // savepoints, so an inner rollback undoes only the inner work.
  void begin();
  void commit();
  void rollback();
  // How long the outermost COMMITs took (what /metrics shows as
  // buildmaster_db_commit_seconds): counts per upper bound in seconds.
  struct CommitStats {
    static constexpr std::array<double, 9> kBounds{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0};
    std::array<std::uint64_t, kBounds.size()> buckets{};  // cumulative is computed when shown
    std::uint64_t count = 0;
    double seconds = 0;
  };
  const CommitStats& commitStats() const { return commitStats_; }
  // How a database server's connection was used (what /metrics shows as
  // buildmaster_db_*_total): statements run, how many of them were sent
  // ahead inside a transaction without waiting for their answer (pipelined,
  // docs/multimaster.md), and how many times the master waited for the
  // server: one network round trip each. All 0 on SQLite.
  struct Traffic {
    std::uint64_t statements = 0;
    std::uint64_t sentAhead = 0;
    std::uint64_t roundTrips = 0;
  };
  Traffic traffic() const;
  // Depth of open transactions (0: autocommit).
  int transactionDepth() const { return depth_; }
  // Runs `fn` once the outermost transaction open now has committed (at
  // once when none is open); forgets it if the transaction, or the nested
  // level it was registered in, rolls back. This is how events are
  // published only after what they announce is written.
  void afterCommit(std::function<void()> fn);
  // begin(); f(); commit(); on exception rolls back and rethrows. Returns f's value.
  template <class F>
  auto transaction(F&& f) -> std::invoke_result_t<F&>;

  // --- changes (changes_db.cpp) ---
  // Stores the change with its files and properties; returns its id.
  std::int64_t addChange(const ChangeRecord& c);
  std::optional<ChangeRecord> getChange(std::int64_t id);
  // The `limit` newest changes, newest first.
  std::vector<ChangeRecord> recentChanges(int limit);
  std::optional<std::int64_t> lastChangeId();
  // Records (or replaces) what `scheduler` decided about a change.
  void recordDecision(const ChangeDecision& d);
  std::vector<ChangeDecision> decisionsForChange(std::int64_t changeId);
  // Whether `scheduler` recorded a decision about the change.
  bool hasDecision(std::int64_t changeId, const std::string& scheduler);
  // Ids of the changes after `afterId` that `scheduler` recorded no
  // decision about, ascending, at most `limit` (a scheduler's catch-up
  // after changes reached no master running it; docs/multimaster.md).
  std::vector<std::int64_t> undecidedChangeIds(const std::string& scheduler, std::int64_t afterId, int limit);

  // --- buildsets and build requests (buildsets_db.cpp) ---
  // Creates the buildset and one request per builder (duplicates ignored) in
  // ONE transaction: returns the buildset id and builder -> request id.
  // A patch on the source stamp is stored with it; one whose jobId another
  // stored patch has throws DbError (kind Constraint).
  std::pair<std::int64_t, std::map<std::string, std::int64_t>> addBuildset(
      const BuildsetRecord& bs, const std::vector<std::string>& builders, int priority);
  std::optional<BuildsetRecord> getBuildset(std::int64_t id);
  // The patch of the buildset's source stamp (a try build), or nullopt.
  std::optional<SourcePatch> getBuildsetPatch(std::int64_t bsid);
  // The size of that patch and who/comment/job id without its body.
  std::optional<SourcePatch> getBuildsetPatchInfo(std::int64_t bsid, std::int64_t* bytes);
  // The buildset made for try job `jobId`, if one was committed.
  std::optional<std::int64_t> buildsetForTryJob(const std::string& jobId);
  std::vector<BuildRequestRecord> requestsForBuildset(std::int64_t bsid);
  // Ids of buildsets whose sourcestamp includes the change, ascending.
  std::vector<std::int64_t> buildsetsForChange(std::int64_t changeId);
  // The newest buildset's id, nullopt if there is none.
  std::optional<std::int64_t> lastBuildsetId();
  // Incomplete buildsets, oldest first.
  std::vector<BuildsetRecord> incompleteBuildsets();
  // Ids of the BuildSets completed at or after `since` (unix seconds) whose
  // last request `master` did not complete (another master's, as far as
  // the rows tell), oldest first: what a master that was not listening
  // may have missed.
  std::vector<std::int64_t> buildsetsCompletedSince(std::int64_t since, MasterId master);
  // The `limit` newest requests / BuildSets, newest first.
  std::vector<BuildRequestRecord> recentRequests(int limit);
  std::vector<BuildsetRecord> recentBuildsets(int limit);
  // Unclaimed, incomplete requests, highest priority first then oldest (then lowest id).
  std::vector<BuildRequestRecord> pendingRequests();
  // The same order, one page: at most `limit` requests, the first ones or
  // those after `after` (a request read before; its priority, submission
  // time and id place it). The distributor reads pages until no slave is
  // free, instead of the whole queue on every pass.
  std::vector<BuildRequestRecord> pendingRequestsPage(const BuildRequestRecord* after,
                                                      std::int64_t limit);
  std::optional<BuildRequestRecord> getRequest(std::int64_t brid);
  // Claims the request for `master`; false if already claimed or complete
  // (or unknown): one conditional UPDATE, never a read-then-write, so of
  // several masters exactly one wins.
  bool claimRequest(std::int64_t brid, MasterId master, std::int64_t now);
  // Back to pending, retries+1 if countRetry. No effect on a complete request.
  void unclaimRequest(std::int64_t brid, bool countRetry);
  // Back to pending, retries unchanged, only while `master` holds the
  // claim (a request claimed before its slave was pinged, not built):
  // false if it does not (given back already, or taken over).
  bool giveBackRequest(std::int64_t brid, MasterId master);
  // Unclaims every claimed, incomplete request of `master`, and those
  // claimed before masters had identities (master start after a crash);
  // returns how many. Other masters' claims are left alone.
  int unclaimRequestsOf(MasterId master);
  // Marks the request complete (with `text` saying why, when it ended
  // without a build); if it was the last incomplete request of its buildset,
  // completes the buildset with the worst() result of its requests and
  // returns that. nullopt if the request was already complete. Throws
  // DbError for an unknown request.
  std::optional<BuildsetCompletion> completeRequest(std::int64_t brid, Result r,
                                                    std::int64_t now,
                                                    const std::string& text = "");

  // --- changing pending requests (requests_db.cpp) ---
  // Completes a pending (unclaimed) request as CANCELLED with `text`; a
  // claimed or complete one is left alone and the outcome says which.
  CancelResult cancelRequest(std::int64_t brid, const std::string& text, std::int64_t now);
  // Sets an incomplete request's priority; false if complete or unknown.
  bool setRequestPriority(std::int64_t brid, int priority);
  // Completes as SKIPPED (replaced_by = newRequestId) every older pending
  // request of the same builder whose BuildSet has the same repository,
  // branch and project; triggered BuildSets are never collapsed. Returns
  // them in id order, with any BuildSet that this completed.
  std::vector<CollapsedRequest> collapseRequests(std::int64_t newRequestId, std::int64_t now);
  // BuildSets whose parent is the build (made by its trigger steps), by id.
  std::vector<BuildsetRecord> childBuildsets(std::int64_t parentBuildId);

  // --- builds and steps (builds_db.cpp) ---
  // A build of `master`; number = next per builder, starting at 1.
  // requestId 0 stores no request.
  BuildRecord addBuild(MasterId master, std::int64_t requestId, const std::string& builder,
                       const std::string& slave, std::int64_t now, const Json& properties);
  // Throws DbError for an unknown build.
  void finishBuild(std::int64_t buildId, Result r, const std::string& text, std::int64_t now);
  // Replaces the build's properties. Throws DbError for an unknown build.
  void setBuildProperties(std::int64_t buildId, const Json& properties);
  std::optional<BuildRecord> getBuild(std::int64_t id);
  std::optional<BuildRecord> getBuildByNumber(const std::string& builder, int number);
  // The `limit` newest builds of the builder, newest first.
  std::vector<BuildRecord> lastBuilds(const std::string& builder, int limit);
  std::vector<BuildRecord> buildsForRequest(std::int64_t brid);  // oldest first
  // Unfinished builds of `master` and those started before masters had
  // identities, oldest first.
  std::vector<BuildRecord> unfinishedBuildsOf(MasterId master);
  // The newest build of `builder` for a request of the BuildSet.
  std::optional<BuildRecord> buildOfBuildset(std::int64_t buildsetId, const std::string& builder);
  // Builders that have builds or requests, sorted.
  std::vector<std::string> builderNames();
  // Step numbers are unique per build (DbError otherwise).
  std::int64_t addStep(std::int64_t buildId, int number, const std::string& name,
                       std::int64_t now);
  // Throws DbError for an unknown step.
  void finishStep(std::int64_t stepId, Result r, const std::string& text, std::int64_t now);
  // Replaces the step's named URLs ([{name, url}]); DbError for an unknown step.
  void setStepUrls(std::int64_t stepId, const Json& urls);
  std::vector<StepRecord> stepsForBuild(std::int64_t buildId);  // by number
  std::optional<StepRecord> getStep(std::int64_t stepId);
  // The `limit` newest builds (of `builder` when not empty), newest first.
  std::vector<BuildRecord> recentBuilds(int limit, const std::string& builder = "");

  // --- list reads for the REST API (list_db.cpp) ---
  // The ids of the rows of `table` that meet every condition of `q`, in
  // q's order (ties and no order: newest first), the page q.offset/q.limit,
  // with the number of all matches. Throws std::invalid_argument for a
  // field listField() does not know or an operator it does not push down.
  ListPage listIds(ListTable table, const ListQuery& q);

  // --- logs (logs_db.cpp) ---
  // Content is stored as zstd-compressed chunks; each chunk row holds the
  // stream id (0 stdout, 1 stderr, 2 header) of its bytes.
  // Log names are unique per step (DbError otherwise).
  std::int64_t addLog(std::int64_t stepId, const std::string& name);
  // Stores `data` as one compressed chunk (callers batch ~64 KiB); empty data
  // stores nothing. Throws DbError for an unknown or finished log and
  // std::invalid_argument for a stream outside 0..2.
  void appendLog(std::int64_t logId, int stream, std::string_view data);
  void finishLog(std::int64_t logId);
  std::vector<LogRecord> logsForStep(std::int64_t stepId);
  std::optional<LogRecord> getLog(std::int64_t logId);
  // Reads chunk by chunk in append order (never the whole log in memory):
  // fn(stream, decompressedBytes) returns false to stop early. The bytes are
  // valid only during the call.
  void readLog(std::int64_t logId, const std::function<bool(int, std::string_view)>& fn);
  // Like readLog, from byte `offset` of the log's content: chunks that end
  // before it are skipped without being decompressed, and the first chunk
  // read is cut at the offset.
  void readLogFrom(std::int64_t logId, std::int64_t offset,
                   const std::function<bool(int, std::string_view)>& fn);

  // The chunk of the log that follows chunk `afterSeq` (-1: the first):
  // fn(stream, decompressedBytes), then its seq for the next call; nullopt
  // when there is none. One chunk in memory at a time.
  std::optional<std::int64_t> readLogChunkAfter(std::int64_t logId, std::int64_t afterSeq,
                                                const std::function<void(int, std::string_view)>& fn);

  // --- per-object state and slaves (state_db.cpp) ---
  std::optional<Json> getState(const std::string& object, const std::string& key);
  // Inserts or overwrites.
  void setState(const std::string& object, const std::string& key, const Json& value);
  void deleteState(const std::string& object, const std::string& key);
  // Every (key, value) of `object` whose key starts with `prefix`, by key.
  std::vector<std::pair<std::string, Json>> statesWithPrefix(const std::string& object,
                                                             const std::string& prefix);
  // Records the slave as connected and seen at `now`; replaces its info
  // unless `info` is null.
  void slaveSeen(const std::string& name, const Json& info, std::int64_t now);
  void slaveDisconnected(const std::string& name, std::int64_t now);
  std::optional<SlaveRecord> getSlave(const std::string& name);
  std::vector<SlaveRecord> slaves();  // by name

  // --- masters (masters_db.cpp) ---
  // The master called `name` starts: its row is created on its first start
  // and kept after; it is marked active with a heartbeat at `now`.
  MasterId registerMaster(const std::string& name, std::int64_t now);
  // The master is alive at `now`. Throws DbError for an unknown master.
  void masterHeartbeat(MasterId master, std::int64_t now);
  // The master stopped cleanly at `now` (active = false).
  void masterStopped(MasterId master, std::int64_t now);
  std::optional<MasterRecord> getMaster(MasterId master);
  std::vector<MasterRecord> masters();  // by id
  // Masters other than `master` that still hold claimed, incomplete
  // requests or unfinished builds, by id.
  std::vector<MasterWork> otherMastersWork(MasterId master);
  // Active masters other than `self` whose last heartbeat is before
  // `before`, by id.
  std::vector<MasterRecord> silentMasters(MasterId self, std::int64_t before);
  // Marks `master` inactive if it is still active and silent since before
  // `before`: one conditional UPDATE, so of several survivors exactly one
  // declares it dead (and takes over its work in the same transaction).
  bool declareMasterDead(MasterId master, std::int64_t before);
  // The master's heartbeat, if it is still active: false when another
  // master declared it dead (its work was taken over).
  bool masterStillActive(MasterId master);
  // What `master` wants to hear of the other masters' work
  // (cluster_events.hpp): their status events (bb_status), the changes
  // they accept (for a scheduler that runs on one master), the BuildSets
  // they complete (for a dependent, a trigger wait, a watcher, a reporter).
  // Stored together (records.hpp); whether any active master but `self`
  // wants status.
  void setMasterWishes(MasterId master, const MasterWishes& wishes);
  bool otherMastersWantStatus(MasterId self);

  // --- scheduler owners (scheduler_owners_db.cpp) ---
  // `master` takes the scheduler `name` if no master holds it (or it
  // already does): one conditional upsert, so of several masters exactly
  // one wins. True if `master` holds it now.
  bool claimScheduler(const std::string& name, MasterId master, std::int64_t now);
  // Lets go of the scheduler if `master` holds it.
  void releaseScheduler(const std::string& name, MasterId master);
  // Lets go of every scheduler `master` holds; how many.
  int releaseSchedulersOf(MasterId master);
  // Who holds the scheduler (nullopt: nobody, or never claimed).
  std::optional<MasterId> schedulerOwner(const std::string& name);

  // --- reports claimed by one of several masters (report_claims_db.cpp) ---
  // True if `master` is the first to claim reporting `subject` (say
  // "build.finished 42") for `reporter`: one INSERT ... ON CONFLICT DO
  // NOTHING, so of several masters exactly one wins.
  bool claimReport(const std::string& reporter, const std::string& subject, MasterId master,
                   std::int64_t now);
  // Deletes the claims made before `before`; how many.
  int pruneReportClaims(std::int64_t before);

  // --- master-scoped locks shared by several masters (locks_db.cpp) ---
  // Applies every change for `master` in one transaction (a savepoint when
  // one is open): all of them, or none. A hold that rises (a new owner, or
  // counting -> exclusive) is one conditional UPDATE of the lock's row, so
  // of several masters only as many as the limit admits win. Returns the
  // index of the first change refused (another master holds the lock),
  // everything rolled back; nullopt when all applied. Lowering a hold is
  // never refused. A new counting hold is also refused while another active
  // master has marked since `waitersSince` that an exclusive claim of the
  // lock waits there (markLockWaiter; 0: marks are not looked at); an
  // exclusive hold granted clears this master's mark. Throws DbError.
  std::optional<std::size_t> changeLockHolds(MasterId master, const std::vector<LockHoldChange>& changes,
                                             std::int64_t now, std::int64_t waitersSince = 0);
  // Marks (again) that an exclusive claim of `lock` waits on `master`.
  void markLockWaiter(const std::string& lock, MasterId master, std::int64_t now);
  // The names of the active masters other than `except` whose marks on
  // `lock` are from `since` on.
  std::vector<std::string> lockWaiters(const std::string& lock, MasterId except, std::int64_t since);
  // Who holds `lock` ("" = every lock), by lock, then master, then since.
  std::vector<LockHolderRecord> lockHolders(const std::string& lock = "");
  // Drops every hold of `master` (a dead master, or this one after an
  // unclean stop), with its waiting marks and lock plans; how many holds.
  int releaseLockHoldsOf(MasterId master);

  // --- the deadlock rule across masters (lock_plans_db.cpp) ---
  // Stores `plan` for build `key` of `master` if `admit` accepts the plans
  // of the other active masters' running builds. The transaction first
  // updates the one row of lock_plan_gate, so the admissions of several
  // masters never overlap: each reads every plan stored by the admissions
  // before it. False, nothing stored, if `admit` refused or `master` is no
  // longer active (declared dead). Throws DbError (or what `admit` throws).
  bool admitLockPlan(MasterId master, std::int64_t key, const std::string& plan, std::int64_t now,
                     const std::function<bool(const std::vector<LockPlanRecord>&)>& admit);
  // The plans of the active masters other than `except`.
  std::vector<LockPlanRecord> lockPlans(MasterId except);
  // Drops build `key`'s plan (the build ended, or never started).
  void dropLockPlan(MasterId master, std::int64_t key);

  // --- cleanup of old history (cleanup_db.cpp) ---
  // Deletes finished builds that finished before `horizon` (UNIX seconds),
  // with their steps, logs and log chunks, at most `batch` builds per
  // transaction (so a running master waits at most one batch for the
  // write lock). The newest build of each builder is kept, so build numbers
  // go on from it. Each deleted build is first summarised into the weekly
  // statistics (weeklyStats() still counts it). Then deletes completed
  // buildsets (with their requests)
  // that completed before `horizon` and have no build left. Returns what
  // was deleted.
  CleanupCounts deleteHistoryBefore(std::int64_t horizon, int batch = 1000);
  // Rewrites the file without its free pages (VACUUM) and truncates the
  // WAL. Needs the database to itself: run it with the master stopped.
  void compact();

  // --- build statistics (stats_db.cpp; master/db/stats_records.hpp) ---
  // The time the build (its locks and its steps') / the step waited for
  // locks, in milliseconds. DbError for an unknown build / step.
  void setBuildLockWait(std::int64_t buildId, std::int64_t ms);
  void setStepLockWait(std::int64_t stepId, std::int64_t ms);
  // Per builder (and, with f.steps, per step name) and per week, from the
  // finished builds that started in or after the week of f.since, merged
  // with the summaries of deleted builds; by builder, step ("" first), week.
  std::vector<StatsWeek> weeklyStats(const StatsFilter& f);
  // The nearest-rank median duration (seconds) of the builder's newest `n`
  // finished builds that passed (success, warnings); nullopt if none.
  std::optional<std::int64_t> recentDurationP50(const std::string& builder, int n = 20);

  // --- artifacts (artifacts_db.cpp) ---
  // Records an artifact (replacing one of the same build and name); its
  // id. builder and number are ignored (they come from the build).
  std::int64_t addArtifact(const ArtifactRecord& a);
  std::vector<ArtifactRecord> artifactsForBuild(std::int64_t buildId);  // by name
  std::optional<ArtifactRecord> getArtifact(std::int64_t buildId, const std::string& name);
  // The bytes of every artifact of the build.
  std::int64_t artifactBytesForBuild(std::int64_t buildId);
  // The artifacts called `name` of the builder's builds, newest build first.
  std::vector<ArtifactRecord> artifactsNamed(const std::string& builder, const std::string& name);
  void deleteArtifact(std::int64_t id);

  // --- retention (retention_db.cpp; the janitor: master/artifacts/retention.hpp) ---
  // "Kept" is not marked removed; only finished builds' artifacts and logs
  // are ever selected. `master`: artifacts of that master's builds (and
  // of builds from before masters had ids) only, as their files are in
  // its directory. Each returns at most `limit` rows.
  // Kept artifacts created before `horizon`, oldest first.
  std::vector<ArtifactRecord> artifactsCreatedBefore(std::int64_t horizon, MasterId master, int limit);
  // Kept artifacts of the finished builds beyond each builder's `keep`
  // newest finished builds that have kept artifacts; by id.
  std::vector<ArtifactRecord> artifactsBeyondNewestBuilds(int keep, MasterId master, int limit);
  // The bytes of the kept artifacts of `master`'s builds (running ones too).
  std::int64_t keptArtifactBytes(MasterId master);
  // The oldest kept artifacts, oldest first, until their sizes add up to
  // at least `bytes` (fewer when `limit` is reached first).
  std::vector<ArtifactRecord> oldestArtifacts(std::int64_t bytes, MasterId master, int limit);
  // The artifact's file is deleted: its row says when and by which rule.
  void markArtifactRemoved(std::int64_t artifactId, std::int64_t now, const std::string& rule);
  // Builders that have builds whose logs are kept, sorted.
  std::vector<std::string> buildersWithKeptLogs();
  // The builder's finished builds with kept logs that finished before
  // `horizon`, oldest first.
  std::vector<std::int64_t> buildsWithLogsFinishedBefore(const std::string& builder, std::int64_t horizon,
                                                         int limit);
  // The builder's finished builds with kept logs beyond its `keep` newest
  // such builds, newest first.
  std::vector<std::int64_t> buildsWithLogsBeyondNewest(const std::string& builder, int keep, int limit);
  // Deletes the text (the chunks) of the build's logs; the log rows stay
  // and the build says when and by which rule. Returns the uncompressed
  // bytes the logs held, or -1 when nothing was done (already removed,
  // not finished, no such build).
  std::int64_t removeBuildLogs(std::int64_t buildId, std::int64_t now, const std::string& rule);

  // --- the end of a log (log_tail_db.cpp) ---
  // The last `maxLines` lines of a log (all streams, in order), reading
  // chunks from the end only until there are enough lines or `maxBytes`
  // (so the cost does not grow with the log's length). "" for no log.
  std::string readLogTail(std::int64_t logId, int maxLines, std::size_t maxBytes = 64 * 1024);

 private:
  struct CachedStatement {
    std::unique_ptr<PreparedStatement> stmt;
    bool busy = false;
  };
  struct MigrationStep {
    int toVersion;
    void (*apply)(Database& db);
  };

  // The cached statement for `sql`, which must be a string with static
  // storage duration (the cache is keyed by its address). A statement still
  // in use further up the stack (re-entrant call) gets a one-off copy.
  Statement stmt(const char* sql);
  // A statement built at run time (list reads): prepared, used once, freed.
  Statement oneOffStmt(const std::string& sql);
  // Runs a multi-statement migration script, its {{WORDS}} expanded by the
  // engine's dialect; not cached.
  void execScript(const char* sql, const char* what);
  void rollbackAfterError() noexcept;
  // afterCommit bookkeeping: run what is due once the outermost level
  // commits; forget what the level being rolled back registered.
  void runAfterCommit();
  void dropAfterCommitOfLevel();
  static const std::vector<MigrationStep>& migrations();
  // Version 4: old list-style pending scheduler state to one row per change.
  void migratePendingChangeRows();
  // Folds the finished builds (and their steps) into build_stats_weekly,
  // before deleteHistoryBefore() deletes them.
  void summariseBuilds(const std::vector<std::int64_t>& buildIds);
  // The stored (compressed) bytes of the chunk of log `logId` that `s` is
  // on, with its compressed, file_offset and file_bytes columns from `col`:
  // the row's blob, or its bytes read from the log's file into `scratch`.
  std::string_view storedChunk(std::int64_t logId, const Statement& s, int col, std::string& scratch);
  // Once the transaction commits, deletes the files of the logs of these
  // builds (their rows or chunks are being deleted).
  void removeLogFilesOfBuilds(const std::vector<std::int64_t>& buildIds);
  // Completes the buildset if none of its requests is open (worst result).
  std::optional<BuildsetCompletion> completeBuildsetIfDone(std::int64_t bsid, std::int64_t now);

  std::unique_ptr<Engine> engine_;
  std::string path_;
  std::unordered_map<const char*, CachedStatement> cache_;
  int depth_ = 0;
  CommitStats commitStats_;
  std::vector<std::function<void()>> afterCommit_;
  std::vector<std::size_t> afterCommitMarks_;  // afterCommit_.size() as each level began
  ZSTD_CCtx_s* cctx_ = nullptr;
  ZSTD_DCtx_s* dctx_ = nullptr;
  std::string compressBuf_;
  std::unordered_map<std::int64_t, int> fastLogChunks_;  // log id -> chunks left in fast mode
  std::unique_ptr<LogFiles> logFiles_;  // null: every chunk in the database
};

template <class F>
auto Database::transaction(F&& f) -> std::invoke_result_t<F&> {
  begin();
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      f();
      commit();
    } else {
      auto result = f();
      commit();
      return result;
    }
  } catch (...) {
    rollbackAfterError();
    throw;
  }
}

}  // namespace bb::db
