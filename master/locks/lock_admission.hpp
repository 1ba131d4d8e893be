#pragma once
// Deadlock prevention for build and step locks (docs/architecture.md,
// "Locks"). A running build holds its build locks from start to end and,
// holding them, waits for each step's locks; it waits for nothing else
// while it holds locks. So the only way lock waits can form a cycle is
// through "a step of build X may wait for a lock that build Y holds for
// its whole run" edges. LockAdmission keeps the lock plans of the builds
// that are running (or being pinged to start) and lets a new build start
// only if, with it, no such edges form a cycle. The running builds' graph
// therefore stays acyclic, and every build completes: the one at the end
// of any chain of waits is waiting for nobody.
//
// Edges are conservative: X -> Y when a step lock of X (one X does not
// already hold in a covering mode) names an instance Y holds as a build
// lock and either side is exclusive, or both are counting and the builds
// holding it as a build lock could fill its limit. Step locks held by a
// running step never make an edge: a step holding locks runs its command
// and releases them without waiting for anything.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/master_config.hpp"
#include "master/locks/lock.hpp"

namespace bb {

class LockManager;

// A build's locks as the deadlock rule sees them.
struct BuildLockPlan {
  std::string name;                    // for messages, e.g. "request 12 (builder a)"
  std::string slave;                   // resolves slave-scoped locks; "" = ignore them
  std::vector<LockAccess> buildLocks;  // held from start to end
  std::vector<LockAccess> stepLocks;   // any step's; waited for while holding buildLocks
};

// Every lock any step of `b` takes, each once in its strongest mode.
std::vector<LockAccess> stepLocksOf(const BuilderEntry& b);

// Several masters on one database (master/cluster/shared_locks.hpp): the
// plans of the builds the other masters run, and admissions that take
// turns with theirs, so that no cycle can form across masters either.
class SharedLockPlans {
 public:
  virtual ~SharedLockPlans() = default;
  // The plans of the other masters' running builds that hold build locks.
  // Throws if the database cannot be read.
  virtual std::vector<BuildLockPlan> others() = 0;
  // Stores `plan` under `key` if `ok(the other masters' plans)` is true,
  // with no other master admitting meanwhile. Throws if the database
  // cannot be written (then nothing is stored).
  virtual bool admit(std::int64_t key, const BuildLockPlan& plan,
                     const std::function<bool(const std::vector<BuildLockPlan>&)>& ok) = 0;
  // Drops `key`'s plan and tells the other masters. Never throws: a
  // failure is logged and written again later.
  virtual void remove(std::int64_t key) = 0;
};

class LockAdmission {
 public:
  // `locks` gives the lock definitions (scope, limits); it must outlive this.
  explicit LockAdmission(const LockManager& locks) : locks_(locks) {}

  // "" if a build with `plan` may start now as far as deadlocks go, else
  // why not, naming the running build it could deadlock with. Unknown
  // locks are ignored here (starting the build fails with a clear error).
  std::string whyNot(const BuildLockPlan& plan) const;
  // Counts the build from now until remove(key). True, except with shared
  // plans (setShared), where a build that holds build locks is admitted
  // only if, with the other masters' plans read at that moment, whyNot()
  // still says nothing: false then, and nothing is counted. Throws what
  // SharedLockPlans::admit throws.
  bool admit(std::int64_t key, BuildLockPlan plan);
  void remove(std::int64_t key);
  std::size_t size() const { return admitted_.size(); }

  // Several masters: whyNot() and contends() also count the builds the
  // other masters run, as last read by refreshOthers() (or admit()).
  void setShared(SharedLockPlans* shared) { shared_ = shared; }
  bool shared() const { return shared_ != nullptr; }
  // Reads the other masters' plans again. Throws on a database error (the
  // plans read before stay).
  void refreshOthers();

  // Fairness: `blocked` may not start now; `later` comes after it in the
  // queue. True if starting `later` first could keep `blocked` waiting
  // (either could wait for the other's build locks), so `later` waits.
  // Only master-scoped locks count here.
  bool contends(const BuildLockPlan& blocked, const BuildLockPlan& later) const;

 private:
  struct Resolved {
    std::string name;
    std::vector<WantedLock> held;   // build locks
    std::vector<WantedLock> steps;  // step locks
  };
  Resolved resolve(const BuildLockPlan& plan) const;
  // A step of `x` may wait for a build lock of `y` (`all` counts holders).
  bool mayWaitFor(const Resolved& x, const Resolved& y, const std::vector<Resolved>& all) const;
  // The names along a cycle of mayWaitFor edges in `all`, empty if none.
  std::vector<std::string> findCycle(const std::vector<Resolved>& all) const;

  // Every plan that counts: this master's admitted ones, then the others'.
  std::vector<Resolved> resolveAll(bool masterScopedOnly) const;

  const LockManager& locks_;
  std::map<std::int64_t, BuildLockPlan> admitted_;
  SharedLockPlans* shared_ = nullptr;
  std::vector<BuildLockPlan> others_;  // the other masters' running builds
  std::set<std::int64_t> sharedKeys_;  // admitted_ keys stored with shared_
};

}  // namespace bb
