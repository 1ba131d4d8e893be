#pragma once
// LockManager: who holds which lock instance, who waits, and who is woken.
// Used by the distributor (canAcquireNow) and by Build (build locks, then
// each step's locks). Single-threaded: call it on the master thread only.
//
// The rules (docs/architecture.md, "Locks"):
// - A request is all-or-nothing: every lock it wants is granted at once, or
//   it holds none of them while it waits. A waiting request never blocks
//   anyone by holding.
// - Holding is per owner (pass the same owner, e.g. "build b1 #3", for a
//   build's build locks and its step locks): an owner never waits for a lock
//   it already holds in a covering mode, and uses one counting slot.
// - FIFO: a waiting request makes later conflicting requests queue behind
//   it (a waiting exclusive request is not starved by counting ones), except
//   that a request never queues behind a waiter that is itself waiting for
//   locks that the request's owner holds (directly or through other
//   waiters): that would be a deadlock made by the queue alone.
// - Several masters on one database (setClaims): a grant that raises an
//   owner's hold on a master-scoped lock is also claimed in the database
//   (LockClaims), atomically for the whole request. A refused claim leaves
//   the request waiting, and the instance counts as busy here until
//   retryClaims() (another master released something) or a local release
//   of it.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "config/master_config.hpp"
#include "master/locks/lock.hpp"
#include "master/locks/lock_claims.hpp"

namespace bb {

class LockManager {
 public:
  struct AcquireResult {
    RequestId id = 0;
    // True: every lock is held now, and the callback will never run.
    // False: the request waits; the callback runs once when it is granted.
    bool granted = false;
  };

  // Why a waiting request is not granted, for one lock instance.
  struct Blocker {
    WantedLock lock;
    bool queued = false;              // false: held by `owners`; true: queued behind them
    std::vector<std::string> owners;  // who holds it, or the earlier waiters
    std::string elsewhere;            // "held on master ci2 by ..." (another master)
  };

  struct WaitInfo {
    RequestId id = 0;
    std::string owner;
    std::string slave;
    std::vector<WantedLock> wanted;   // everything the request wants
    std::vector<Blocker> blockedBy;   // the instances that keep it waiting
    WallTime since;
    SteadyTime sinceSteady;
  };

  struct InstanceInfo {
    LockInstanceId id;
    LockScope scope = LockScope::Master;
    int maxCount = 1;       // effective limit for this instance
    bool retired = false;   // removed from the config, still held
    std::vector<Holding> holders;  // in grant order
  };

  // `clock` stamps when requests start waiting and are granted.
  explicit LockManager(Clock& clock);
  LockManager(const LockManager&) = delete;
  LockManager& operator=(const LockManager&) = delete;

  // Replaces the lock definitions (startup and reconfig). A changed
  // max_count applies at once and waiters it now admits are granted (their
  // callbacks run before this returns). A removed lock stays with its
  // current holders and waiters until they are gone; new requests for it
  // fail. Throws LockError, changing nothing, if an entry is invalid or a
  // name repeats.
  void configure(const std::vector<LockEntry>& locks);

  // Requests every lock in `wanted` for `owner` (non-empty, e.g. "build b1
  // #3"), using `slave` for slave-scoped locks. Granted at once if possible
  // (result.granted, `granted` is not called); otherwise the request waits,
  // holding nothing, and `granted` is called exactly once, from a later
  // call, when all locks are held. When `owner` already holds locks (a
  // step of a running build), this call may also grant other waiters and
  // run their callbacks before it returns. A lock listed twice counts once,
  // exclusive winning. Throws LockError for an unknown lock, a bad access
  // mode, or a slave-scoped lock with no slave.
  AcquireResult acquire(const std::vector<LockAccess>& wanted, const std::string& slave,
                        std::string owner, std::function<void()> granted);

  // True if acquire() with the same arguments would be granted at once
  // (holding locks is free, no earlier waiter conflicts). An empty owner
  // means a new owner that holds nothing (a build not yet started).
  // Throws LockError like acquire().
  bool canAcquireNow(const std::vector<LockAccess>& wanted, const std::string& slave,
                     const std::string& owner = {}) const;

  // Releases every lock held by request `id` and grants waiters now
  // admitted, in FIFO order; their callbacks run after the state is
  // consistent. A request still waiting is cancelled instead. False if
  // `id` is unknown (already released or cancelled).
  bool release(RequestId id);

  // Removes a waiting request: its callback will never run, it releases
  // nothing, and waiters that queued behind it are granted if now
  // admitted. False (and nothing happens) if `id` is granted or unknown.
  bool cancel(RequestId id);

  // Called after every release(), cancel() and configure(), once the grant
  // callbacks ran: the distributor's wake-up ("lock released").
  void setChangeListener(std::function<void()> listener);

  // Claims master-scoped holds in the database too (several masters);
  // nullptr (the default): this master's memory decides alone. `claims`
  // must outlive the manager's use of it.
  void setClaims(LockClaims* claims) { claims_ = claims; }
  // Another master released a lock (or its holds were dropped): forgets
  // what earlier refusals said and tries the waiting requests again,
  // running their callbacks and then the change listener. False (nothing
  // done) when no refusal was remembered.
  bool retryClaims();
  // The holds of other masters (empty without claims), for status.
  std::vector<db::LockHolderRecord> holdersElsewhere() const;

  // The scope of a configured (not retired) lock, nullopt if unknown.
  std::optional<LockScope> scopeOf(const std::string& lock) const;
  // The counting limit of one instance (1 for an unknown lock).
  int limitOf(const LockInstanceId& id) const;

  bool isGranted(RequestId id) const;
  bool isWaiting(RequestId id) const;

  // Waiting requests, oldest first, with what blocks each.
  std::vector<WaitInfo> waiting() const;
  // Every lock instance that has holders, by lock name then slave.
  std::vector<InstanceInfo> instances() const;
  // Holders of one instance (slave is ignored for master-scoped locks).
  std::vector<Holding> holders(const std::string& lock, const std::string& slave = {}) const;
  // One line for status pages, e.g. "waiting for lock 'db' (exclusive),
  // held by build b1 #3"; "holds its locks" once granted.
  std::string waitingFor(RequestId id) const;

 private:
  struct Request {
    RequestId id = 0;
    std::string owner;
    std::string slave;
    std::vector<WantedLock> wanted;
    std::function<void()> onGranted;
    WallTime since;
    SteadyTime sinceSteady;
    bool held = false;
  };

  std::vector<WantedLock> resolve(const std::vector<LockAccess>& wanted,
                                  const std::string& slave) const;
  // Why a request by `owner` placed before waiter `before` could not be
  // granted now; empty if it could. `firstOnly` stops at the first reason.
  std::vector<Blocker> blockers(const std::string& owner, const std::vector<WantedLock>& wanted,
                                RequestId before, bool firstOnly = false) const;
  std::vector<RequestId> dependents(const std::string& owner) const;
  bool busyFor(const WantedLock& w, const std::string& owner) const;
  // True if a refused claim makes `w` busy for `owner`.
  bool busyElsewhere(const WantedLock& w, const std::string& owner) const;
  // Holds `r` if the database agrees (claims_); false, and remembered in
  // remoteBusy_, if another master holds what it needs.
  bool tryHold(Request& r);
  // The owner's hold on each instance of `wanted` (None for slave-scoped
  // ones: only master-scoped holds go to the database).
  std::vector<db::LockHold> masterHolds(const std::string& owner,
                                        const std::vector<WantedLock>& wanted) const;
  // Lowers in the database the holds that fell from `before` to now.
  void releaseClaims(const std::string& owner, const std::vector<WantedLock>& wanted,
                     const std::vector<db::LockHold>& before);
  bool holdsAnything(const std::string& owner) const;
  void hold(Request& r);
  void dropUnusedRetired();
  // Grants every admitted waiter; returns their callbacks (not `quiet`'s).
  std::vector<std::function<void()>> grantWaiters(RequestId quiet);
  // Runs grant callbacks, then the change listener if `notify`.
  void runCallbacks(std::vector<std::function<void()>> callbacks, bool notify);

  Clock& clock_;
  std::map<std::string, LockDef> defs_;
  std::map<RequestId, Request> requests_;  // by id = arrival order
  std::map<LockInstanceId, LockInstance> instances_;  // only instances with holders
  RequestId nextId_ = 1;
  std::function<void()> listener_;
  LockClaims* claims_ = nullptr;
  // Master-scoped instances a claim was refused for: the refused mode (a
  // refused counting claim also keeps exclusive ones back) and why.
  struct Refused {
    LockMode mode = LockMode::Counting;
    std::string why;
  };
  std::map<LockInstanceId, Refused> remoteBusy_;
};

}  // namespace bb
