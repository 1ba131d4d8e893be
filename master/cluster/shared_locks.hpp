#pragma once
// SharedLocks: master-scoped locks held through the shared database
// (LockClaims for the LockManager; docs/multimaster.md, "Locks"). A claim
// is one transaction of conditional UPDATEs (Database::changeLockHolds);
// a release is written, then announced to the other masters on `bb_lock`
// (once per turn of the event loop, however many releases it made), whose
// managers then try their waiting requests again.
//
// Fairness across masters: an exclusive claim refused here is marked in
// the database (and marked again at each retry: every release heard and
// every heartbeat); while that mark is fresher than `markWindow`, the other
// masters take no new counting hold of the lock, so their holds drain and
// the exclusive claim is granted instead of waiting behind a stream of
// counting holds that always overlap. A waiter that goes away (its build
// cancelled, its master dead) stops marking, and its mark stops counting
// after `markWindow`.
//
// Deadlocks across masters: as SharedLockPlans, it stores the lock plan of
// each build here that holds build locks (Database::admitLockPlan, in turn
// with the other masters' admissions) and reads the others' plans for the
// deadlock rule (LockAdmission). A plan dropped is announced on `bb_lock`
// like a release: a build another master held back may start now.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "master/db/records.hpp"
#include "master/locks/lock_admission.hpp"
#include "master/locks/lock_claims.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class SharedLocks : public LockClaims, public SharedLockPlans {
 public:
  using Post = std::function<void(std::function<void()>)>;

  // Claims as master `self`. `announce` tells the other masters that locks
  // were released (ClusterEvents::announceLocksReleased); `post` runs it
  // once the current turn of the loop is done.
  SharedLocks(db::Database& db, Clock& clock, db::MasterId self, Post post, std::function<void()> announce,
              std::chrono::seconds markWindow);

  std::optional<Refusal> claim(const std::vector<db::LockHoldChange>& changes) override;
  void release(const std::vector<db::LockHoldChange>& changes) override;
  std::vector<db::LockHolderRecord> elsewhere() override;

  std::vector<BuildLockPlan> others() override;
  bool admit(std::int64_t key, const BuildLockPlan& plan,
             const std::function<bool(const std::vector<BuildLockPlan>&)>& ok) override;
  void remove(std::int64_t key) override;

  // Writes again the releases (and plan drops) the database refused (it
  // was unreachable); until then their slots stay taken for the other
  // masters. Called before each claim and on the master's heartbeat. Never
  // throws.
  void retryReleases();
  std::size_t unreleased() const { return unreleased_.size() + undroppedPlans_.size(); }

  // A plan as stored, and back ("" / nullopt: not a plan; `master` names
  // the master it came from in the plan's name).
  static std::string planText(const BuildLockPlan& plan);
  static std::optional<BuildLockPlan> parsePlan(const std::string& text, const std::string& master);

 private:
  std::int64_t now() const;
  void announceSoon();

  db::Database& db_;
  Clock& clock_;
  db::MasterId self_;
  Post post_;
  std::function<void()> announce_;
  std::vector<db::LockHoldChange> unreleased_;
  std::vector<std::int64_t> undroppedPlans_;
  bool announcing_ = false;
  std::chrono::seconds markWindow_;
};

}  // namespace bb
