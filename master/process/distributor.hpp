#pragma once
// BuildRequestDistributor: matches pending build requests to free slaves.
// It never polls: it subscribes to the events that could let a build start
// (request created, re-prioritised or back in the queue, slave attached or
// out of its back-off, lock released), and wake() (also called on build
// finished and reconfig) coalesces into one pass on the next turn of the
// event loop.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "config/master_config.hpp"
#include "master/db/records.hpp"
#include "master/locks/lock_admission.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class Build;
class BuildsetService;
class PendingWrites;
class ArtifactStore;
class LockManager;
class SecretStore;
class SchedulerSet;
class SlaveRegistry;

class BuildRequestDistributor {
 public:
  using Post = std::function<void(std::function<void()>)>;

  // Builds publish on buildsets.events(); the distributor subscribes there.
  // Requests are claimed and builds started as `master`.
  BuildRequestDistributor(db::Database& db, db::MasterId master, Clock& clock,
                          SlaveRegistry& slaves, Post post, BuildsetService& buildsets);
  ~BuildRequestDistributor();

  // Builds take their locks here; a released lock wakes the distributor.
  void setLocks(LockManager* locks);
  // Several masters on one database: the deadlock rule counts the other
  // masters' builds too (LockAdmission::setShared). Set after setLocks.
  void shareLockPlans(SharedLockPlans* plans);
  // What builds' trigger steps start BuildSets with (see BuildEnv).
  void setSchedulers(SchedulerSet* schedulers) { schedulers_ = schedulers; }
  // Where builds keep writes refused for a full disk (BuildEnv::storage).
  void setStorage(PendingWrites* storage) { storage_ = storage; }
  // The secrets builds started from now on use and mask (running builds
  // keep theirs).
  void setSecrets(std::shared_ptr<const SecretStore> secrets) { secrets_ = std::move(secrets); }
  // Where builds' transfer steps keep artifacts (BuildEnv::artifacts).
  void setArtifacts(ArtifactStore* artifacts) { artifacts_ = artifacts; }
  // Replaces the builder configs (reconfig); running builds keep theirs.
  void configure(const MasterConfig& config);
  // Schedules one distribution pass (idempotent until it runs).
  void wake();
  // No new builds start after this (shutdown step 2).
  void stopStartingBuilds();
  // Stops every running build with `as` (RETRY on shutdown).
  void stopAll(Result as, const std::string& reason);

  std::size_t runningCount() const { return running_.size(); }
  // Whether this master holds the request: claimed and pinging its slave,
  // or building it (false once it stops starting builds: what it was
  // pinging goes back to the queue).
  bool holds(std::int64_t request) const {
    return !stopped_ && (running_.count(request) || pinging_.count(request));
  }
  std::vector<std::shared_ptr<Build>> runningBuilds() const;
  std::uint64_t buildsStarted() const { return started_; }

  // Called when the last running build finishes (clean shutdown waits).
  std::function<void()> onIdle;

 private:
  // Pending requests read per page of a distribution pass.
  static constexpr std::int64_t kPageSize = 64;
  void distribute();
  // Whether some builder has a slave free for it now (locks counted).
  bool anySlaveFree() const;
  std::function<bool(const std::string&)> locksFree(const BuilderEntry& b) const;
  // Adds the master-scoped locks of `wanted` to `reserved` (one pass's
  // FIFO reservations; see distribute()).
  void reserve(const std::vector<LockAccess>& wanted, std::vector<LockAccess>& reserved) const;
  // The deadlock rule's view of a build of `b` on `slave`.
  BuildLockPlan planFor(const BuilderEntry& b, const std::string& slave) const;
  // True if a build of `b` must wait for one of the `blocked` ones
  // (LockAdmission::contends).
  bool contendsWithBlocked(const BuilderEntry& b, const std::vector<BuildLockPlan>& blocked) const;
  // True if `wanted` and `reserved` share a lock, either side exclusive.
  bool conflictsWithReserved(const std::vector<LockAccess>& wanted,
                             const std::vector<LockAccess>& reserved) const;
  // What became of a request a pass tried to start on a free slave.
  enum class Attempt {
    Pinging,  // claimed; the slave's slot is taken while it is pinged, then the build starts
    Refused,  // the deadlock rule across masters said no at the last moment: nothing taken
    Lost,     // claimed elsewhere (another master) or completed meanwhile: the slave stays free
  };
  // Claims the request (one conditional UPDATE), then pings the slave and
  // starts the build on its answer; a failed ping, a slave that began
  // draining or a build that cannot start gives the request back.
  Attempt claimThenPing(const db::BuildRequestRecord& req, std::shared_ptr<class RemoteSlave> slave);
  // Un-claims a request this master claimed but does not build; a write
  // that fails is kept in unclaimLater_ and tried again at each pass, and
  // a pass runs every kGiveBackRetry until it is written.
  void giveBack(const db::BuildRequestRecord& req, const std::string& why);
  void startBuild(const BuilderEntry& builder, const db::BuildRequestRecord& req,
                  std::shared_ptr<class RemoteSlave> slave);
  db::Database& db_;
  db::MasterId master_;
  Clock& clock_;
  SlaveRegistry& slaves_;
  Post post_;
  std::map<std::string, BuilderEntry> builders_;
  Json masterProps_ = Json::object();
  std::string masterName_;
  std::map<std::int64_t, std::shared_ptr<Build>> running_;  // by request id
  std::map<std::int64_t, db::BuildRequestRecord> pinging_;  // claimed, slave being pinged; by id
  // Requests to give back (a write failed), by id, with why.
  std::map<std::int64_t, std::pair<db::BuildRequestRecord, std::string>> unclaimLater_;
  static constexpr std::chrono::milliseconds kGiveBackRetry{1000};
  std::unique_ptr<Timer> retryTimer_;  // a pass, while unclaimLater_ is not empty
  std::set<std::string> masterScopedLocks_;  // names, from the config
  bool anyBuildLocks_ = false;               // some builder has build locks
  SharedLockPlans* sharedPlans_ = nullptr;
  std::chrono::milliseconds pingTimeout_{10000};
  int maxRetries_ = 3;
  std::shared_ptr<const SecretStore> secrets_;
  ArtifactStore* artifacts_ = nullptr;
  LockManager* locks_ = nullptr;
  // Builds pinged or running, for the deadlock rule (by request id).
  std::unique_ptr<LockAdmission> admission_;
  SchedulerSet* schedulers_ = nullptr;
  BuildsetService& buildsets_;
  PendingWrites* storage_ = nullptr;
  std::uint64_t subscription_ = 0;
  bool woken_ = false;
  bool stopped_ = false;
  // Logged when the master stops (what several masters cost each other).
  struct Counts {
    std::uint64_t passes = 0, pages = 0, claimed = 0, lost = 0;
  } counts_;
  std::uint64_t started_ = 0;
};

}  // namespace bb
