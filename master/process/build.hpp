#pragma once
// One Build: runs a builder's steps in order on one slave, each through
// the Step interface (master/process/step.hpp: Build knows no step type),
// streams each remote command's output into its step's log, and records
// results.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/event_loop.hpp"
#include "common/interpolate.hpp"
#include "common/results.hpp"
#include "config/master_config.hpp"
#include "master/db/records.hpp"
#include "master/events/event.hpp"
#include "master/process/log_writer.hpp"
#include "master/process/step.hpp"
#include "master/process/step_urls.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class ArtifactStore;
class EventBus;
class RemoteSlave;
class SecretStore;
class Build;
class BuildsetService;
class LockManager;
class PendingWrites;
class SchedulerSet;
class Step;
struct CommandOutcome;
struct StepContext;
struct StepOutcome;

struct BuildEnv {
  db::Database& db;
  Clock& clock;
  // A request whose slave is lost more often than this fails (EXCEPTION).
  int maxRetries = 3;
  // Build and step locks; nullptr runs without locks.
  LockManager* locks = nullptr;
  // Called once when the build has ended (its rows committed, or their
  // writing failed and was logged): the slot is to be freed.
  std::function<void(Build&)> onFinished;
  // What trigger steps start BuildSets with and wait on; without them a
  // trigger step ends in EXCEPTION.
  SchedulerSet* schedulers = nullptr;
  BuildsetService* buildsets = nullptr;
  // Where build, step, log and lock events go (required).
  EventBus* events = nullptr;
  // The master the build belongs to.
  db::MasterId master;
  // Where a write refused for a full disk waits to be retried, and where
  // the master's storage condition is kept; nullptr: such a failure is
  // logged and recovered at the next start instead.
  PendingWrites* storage = nullptr;
  // The secrets its steps may use; their values are masked in its logs,
  // step texts and the properties its steps set. Null: none.
  std::shared_ptr<const SecretStore> secrets;
  // Where its upload/download steps store and read artifacts; null: none.
  ArtifactStore* artifacts = nullptr;
};

class Build : public std::enable_shared_from_this<Build> {
 public:
  Build(BuildEnv env, BuilderEntry builder, db::BuildRequestRecord request,
        std::shared_ptr<RemoteSlave> slave, Properties props);
  ~Build();

  // Writes the build row (number assigned) and starts the first step.
  void start();
  // Stops the build: the running command is interrupted and the build
  // ends with `as` (RETRY for a master shutdown, CANCELLED for a user). A
  // trigger step stops waiting at once; the builds it triggered go on.
  void stop(Result as, const std::string& reason);

  std::int64_t id() const { return record_.id; }
  int number() const { return record_.number; }
  const std::string& builderName() const { return builder_.name; }
  const std::string& slaveName() const;
  const db::BuildRequestRecord& request() const { return request_; }
  bool finished() const { return finished_; }
  // The running step's own description (Step::describe) with its
  // `number`; null when no step runs (between steps, waiting for locks).
  Json currentStep() const;
  Result result() const { return result_; }

 private:
  void runStep(std::size_t index);
  // Starts step `index` (its locks are held) through the Step interface.
  void startStep(std::size_t index);
  // The running step `run` ended; ignored if the build no longer waits for it.
  void onStepDone(std::uint64_t run, const StepOutcome& outcome);
  // StepContext::runCommand: a remote command whose output goes to the
  // step's log, credited back to the slave once stored.
  // With `transfer` handlers, the data stream and FileCredit go to them.
  std::int64_t runCommand(const std::string& kind, Json args,
                          std::function<void(const CommandOutcome&)> done,
                          TransferHandlers transfer = {});
  // Drops the running step (its `done` is then ignored) and interrupts it.
  void abandonStep(const std::string& reason);
  // Takes `wanted` for this build's owner, then calls `then`; while it
  // waits, the wait is logged and shown as the build's lock_status.
  void withLocks(const std::vector<LockAccess>& wanted, std::uint64_t& request,
                 std::function<void()> then);
  void releaseLocks();
  // Adds the wait that ends now to the build's (and its step's) lock wait.
  void endLockWait();
  // The lock wait as properties and in the build's (and step's) row.
  void saveLockProperties();
  // Records the current step's result and goes on (or ends the build) by
  // its halt/flunk/warn settings.
  void endStep(Result r, const std::string& text);
  void finish(Result r, const std::string& text);
  // The one failure path for this build's asynchronous work (a handler,
  // a timer, a lock grant that threw): logs what failed and ends the
  // build EXCEPTION, so its slot and locks are freed whatever happened.
  void fail(const std::string& what, const std::string& why);
  // fail() for a caught error: a full disk (DbError DiskFull) ends the
  // build with "disk full: WHAT failed (CAUSE)" and marks the master's
  // storage condition; anything else is fail(what, e.what()).
  void fail(const std::string& what, const std::exception& e);
  // Storing the running step's output failed: "disk full: cannot store
  // log of step NAME (CAUSE)" for a full disk, fail() otherwise.
  void failStoring(const std::exception& e);
  // The one way a failure ends the build: its open step with `stepReason`,
  // then the build with `r` and `text` (nothing if it already ended).
  void endNow(Result r, const std::string& stepReason, const std::string& text);
  // The end of the build written in one transaction (the step and its log
  // closed, the build row, its request and BuildSet); rerunnable.
  void recordEnd(Result r, const std::string& text, std::int64_t now);
  // An event about this build (its keys filled in), published once the
  // open transaction (if any) commits.
  void publish(EventType type, Json data);
  Json lockNames(const std::vector<LockAccess>& wanted) const;
  // The step's config URLs rendered with the build's properties; throws
  // InterpolationError for one that does not expand or is not a URL.
  void addConfigUrls(const StepConfig& s);
  // Writes the running step's URLs if they changed (a `step.urls` event).
  void storeUrls();
  std::int64_t nowSeconds() const;

  BuildEnv env_;
  BuilderEntry builder_;
  db::BuildRequestRecord request_;
  std::shared_ptr<RemoteSlave> slave_;
  Properties props_;
  db::BuildRecord record_;
  Result result_ = Result::Success;
  std::size_t stepIndex_ = 0;
  std::int64_t stepId_ = 0;
  bool stepOpen_ = false;  // the step row is written but not finished
  bool stepRan_ = false;      // the current step was started (not just waiting for locks)
  std::string openStepText_;  // what an open step's row says when the build ends
  std::int64_t cmdId_ = 0;
  std::unique_ptr<LogWriter> log_;
  std::int64_t creditOwed_ = 0;  // output bytes received, not yet stored and credited
  StepUrls urls_;                // the running step's named URLs
  bool urlsDirty_ = false;       // changed since stored (stored with the log, at most)
  std::shared_ptr<Step> step_;              // the running step, if any
  std::unique_ptr<StepContext> stepCtx_;    // what it was started with
  std::uint64_t stepRun_ = 0;               // counts started steps; a stale `done` is ignored
  std::optional<Result> stopAs_;
  bool databaseLost_ = false;  // ended RETRY because the database server could not be reached
  std::string stopReason_;
  bool finished_ = false;
  std::string owner_;                 // "build B #N": one owner for build and step locks
  std::uint64_t buildLocks_ = 0;      // LockManager request ids (0: none)
  std::uint64_t stepLocks_ = 0;
  std::optional<SteadyTime> waitingSince_;
  double lockWaitSeconds_ = 0;  // the build's locks and its steps' (builds.lock_wait_ms)
  bool waitingForStep_ = false;  // waitingSince_ is a step's lock wait
  std::int64_t stepLockWaitMs_ = 0;  // the current step's (steps.lock_wait_ms)
};

}  // namespace bb
