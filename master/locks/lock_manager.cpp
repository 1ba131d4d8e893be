#include "master/locks/lock_manager.hpp"

#include <algorithm>
#include <exception>
#include <set>
#include <utility>

namespace bb {

namespace {

void addOwner(std::vector<std::string>& owners, const std::string& owner) {
  if (std::find(owners.begin(), owners.end(), owner) == owners.end()) owners.push_back(owner);
}

std::string joinOwners(const std::vector<std::string>& owners) {
  std::string out;
  for (const std::string& o : owners) {
    if (!out.empty()) out += ", ";
    out += o;
  }
  return out;
}

}  // namespace

LockManager::LockManager(Clock& clock) : clock_(clock) {}

void LockManager::configure(const std::vector<LockEntry>& locks) {
  // Validate everything first, so a bad entry changes nothing.
  std::map<std::string, LockDef> next;
  for (const LockEntry& entry : locks) {
    LockDef def = LockDef::fromEntry(entry);
    if (next.count(def.name)) throw LockError("lock '" + def.name + "' is defined twice");
    next.emplace(def.name, std::move(def));
  }
  // A removed lock that is still held or waited for stays, retired, so its
  // holders and waiters keep a limit; dropUnusedRetired() forgets it later.
  for (auto& [name, def] : defs_) {
    if (next.count(name)) continue;
    def.retired = true;
    next.emplace(name, std::move(def));
  }
  defs_ = std::move(next);
  remoteBusy_.clear();  // a changed limit: ask the database again
  dropUnusedRetired();
  runCallbacks(grantWaiters(0), true);
}

LockManager::AcquireResult LockManager::acquire(const std::vector<LockAccess>& wanted,
                                                const std::string& slave, std::string owner,
                                                std::function<void()> granted) {
  if (owner.empty()) {
    throw LockError("a lock request needs an owner naming the holder, e.g. \"build b1 #3\"");
  }
  Request r;
  r.wanted = resolve(wanted, slave);
  r.id = nextId_++;
  r.owner = std::move(owner);
  r.slave = slave;
  r.onGranted = std::move(granted);
  r.since = clock_.wallNow();
  r.sinceSteady = clock_.now();
  const RequestId id = r.id;
  bool now = blockers(r.owner, r.wanted, id, true).empty();
  if (now) tryHold(r);
  auto it = requests_.emplace(id, std::move(r)).first;
  // A new request by an owner that holds locks can make an earlier waiter
  // depend on that owner (through the chain described in dependents()), so
  // that it may now pass others: grant whoever is now admitted. This never
  // happens for an owner that holds nothing. If the new request itself is
  // granted in that pass, the caller learns it from the result.
  std::vector<std::function<void()>> callbacks;
  if (holdsAnything(it->second.owner)) callbacks = grantWaiters(id);
  now = it->second.held;
  runCallbacks(std::move(callbacks), false);
  return {id, now};
}

bool LockManager::canAcquireNow(const std::vector<LockAccess>& wanted, const std::string& slave,
                                const std::string& owner) const {
  // An owner name no request can have stands for "a new owner".
  const std::string who = owner.empty() ? std::string("\0new", 4) : owner;
  return blockers(who, resolve(wanted, slave), nextId_, true).empty();
}

bool LockManager::release(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return false;
  if (!it->second.held) return cancel(id);
  const std::string owner = it->second.owner;
  const std::vector<WantedLock> wanted = it->second.wanted;
  const std::vector<db::LockHold> before =
      claims_ ? masterHolds(owner, wanted) : std::vector<db::LockHold>{};
  for (const WantedLock& w : it->second.wanted) {
    auto inst = instances_.find(w.instance);
    if (inst == instances_.end()) continue;
    inst->second.remove(id);
    if (inst->second.empty()) instances_.erase(inst);
  }
  requests_.erase(it);
  releaseClaims(owner, wanted, before);
  dropUnusedRetired();
  runCallbacks(grantWaiters(0), true);
  return true;
}

bool LockManager::cancel(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end() || it->second.held) return false;
  requests_.erase(it);
  dropUnusedRetired();
  runCallbacks(grantWaiters(0), true);
  return true;
}

void LockManager::setChangeListener(std::function<void()> listener) {
  listener_ = std::move(listener);
}

bool LockManager::isGranted(RequestId id) const {
  auto it = requests_.find(id);
  return it != requests_.end() && it->second.held;
}

bool LockManager::isWaiting(RequestId id) const {
  auto it = requests_.find(id);
  return it != requests_.end() && !it->second.held;
}

std::vector<LockManager::WaitInfo> LockManager::waiting() const {
  std::vector<WaitInfo> out;
  for (const auto& [id, r] : requests_) {
    if (r.held) continue;
    out.push_back({id, r.owner, r.slave, r.wanted, blockers(r.owner, r.wanted, id), r.since,
                   r.sinceSteady});
  }
  return out;
}

std::vector<LockManager::InstanceInfo> LockManager::instances() const {
  std::vector<InstanceInfo> out;
  for (const auto& [id, inst] : instances_) {
    const LockDef& def = defs_.at(id.lock);
    out.push_back({id, def.scope, def.limitFor(id.slave), def.retired, inst.holdings()});
  }
  return out;
}

std::vector<Holding> LockManager::holders(const std::string& lock, const std::string& slave) const {
  auto def = defs_.find(lock);
  LockInstanceId id{lock, def != defs_.end() && def->second.scope == LockScope::Slave ? slave : ""};
  auto it = instances_.find(id);
  return it == instances_.end() ? std::vector<Holding>{} : it->second.holdings();
}

std::string LockManager::waitingFor(RequestId id) const {
  auto it = requests_.find(id);
  if (it == requests_.end()) return "no lock request " + std::to_string(id);
  const Request& r = it->second;
  if (r.held) return "holds its locks";
  std::string out;
  for (const Blocker& b : blockers(r.owner, r.wanted, id)) {
    if (!out.empty()) out += "; ";
    out += "waiting for " + toString(b.lock.instance) + " (" + std::string(toString(b.lock.mode)) + ")";
    if (!b.owners.empty()) out += std::string(", ") + (b.queued ? "queued behind " : "held by ") + joinOwners(b.owners);
    if (!b.elsewhere.empty()) out += ", " + b.elsewhere;
  }
  // Only between a state change and the grant pass that follows it.
  return out.empty() ? "about to be granted" : out;
}

std::vector<WantedLock> LockManager::resolve(const std::vector<LockAccess>& wanted,
                                             const std::string& slave) const {
  std::vector<WantedLock> out;
  for (const LockAccess& a : wanted) {
    auto def = defs_.find(a.lock);
    if (def == defs_.end() || def->second.retired) {
      throw LockError("unknown lock '" + a.lock + "': it is not defined in the config's locks section");
    }
    LockMode mode = parseLockMode(a.access, a.lock);
    LockInstanceId inst{a.lock, ""};
    if (def->second.scope == LockScope::Slave) {
      if (slave.empty()) {
        throw LockError("lock '" + a.lock + "' is slave-scoped but the request names no slave");
      }
      inst.slave = slave;
    }
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const WantedLock& w) { return w.instance == inst; });
    if (same == out.end()) {
      out.push_back({inst, mode});
    } else if (mode == LockMode::Exclusive) {
      same->mode = LockMode::Exclusive;
    }
  }
  return out;
}

std::optional<LockScope> LockManager::scopeOf(const std::string& lock) const {
  auto def = defs_.find(lock);
  if (def == defs_.end() || def->second.retired) return std::nullopt;
  return def->second.scope;
}

int LockManager::limitOf(const LockInstanceId& id) const {
  auto def = defs_.find(id.lock);
  return def == defs_.end() ? 1 : def->second.limitFor(id.slave);
}

bool LockManager::busyFor(const WantedLock& w, const std::string& owner) const {
  auto it = instances_.find(w.instance);
  if (it == instances_.end()) return busyElsewhere(w, owner);
  const LockInstance& inst = it->second;
  if (inst.heldBy(owner, w.mode)) return false;
  if (busyElsewhere(w, owner)) return true;
  if (w.mode == LockMode::Exclusive) return inst.otherOwners(owner) > 0;
  return inst.exclusiveByOther(owner) || inst.otherOwners(owner) >= limitOf(w.instance);
}

bool LockManager::holdsAnything(const std::string& owner) const {
  return std::any_of(requests_.begin(), requests_.end(),
                     [&](const auto& kv) { return kv.second.held && kv.second.owner == owner; });
}

std::vector<LockManager::Blocker> LockManager::blockers(const std::string& owner,
                                                        const std::vector<WantedLock>& wanted,
                                                        RequestId before, bool firstOnly) const {
  std::vector<Blocker> out;
  std::vector<RequestId> bypass;
  bool bypassKnown = false;
  for (const WantedLock& w : wanted) {
    if (firstOnly && !out.empty()) break;
    auto found = instances_.find(w.instance);
    const LockInstance* inst = found == instances_.end() ? nullptr : &found->second;
    if (inst && inst->heldBy(owner, w.mode)) continue;  // the owner has it already
    if (busyFor(w, owner)) {
      auto refused = remoteBusy_.find(w.instance);
      out.push_back({w, false, inst ? inst->ownersExcept(owner) : std::vector<std::string>{},
                     refused != remoteBusy_.end() ? refused->second.why : ""});
      continue;
    }
    // Free now; is it promised to an earlier waiter? Waiters that wait for
    // this owner are passed over, or neither could ever proceed.
    if (!bypassKnown) {
      bypass = dependents(owner);
      bypassKnown = true;
    }
    bool conflict = false;
    std::vector<std::string> exclusiveAhead;
    std::vector<std::string> countingAhead;
    for (const auto& [id, r] : requests_) {
      if (id >= before) break;
      if (r.held || r.owner == owner) continue;
      if (std::find(bypass.begin(), bypass.end(), id) != bypass.end()) continue;
      for (const WantedLock& o : r.wanted) {
        if (o.instance != w.instance) continue;
        if (inst && inst->heldBy(r.owner, o.mode)) continue;  // needs no new slot
        if (w.mode == LockMode::Exclusive || o.mode == LockMode::Exclusive) {
          conflict = true;
          addOwner(exclusiveAhead, r.owner);
        } else {
          addOwner(countingAhead, r.owner);
        }
      }
    }
    if (conflict) {
      for (const std::string& o : countingAhead) addOwner(exclusiveAhead, o);
      out.push_back({w, true, exclusiveAhead, ""});
      continue;
    }
    // Counting: earlier counting waiters keep a slot each.
    int used = inst ? inst->otherOwners(owner) : 0;
    if (used + static_cast<int>(countingAhead.size()) + 1 > limitOf(w.instance)) {
      out.push_back({w, true, countingAhead, ""});
    }
  }
  return out;
}

std::vector<RequestId> LockManager::dependents(const std::string& owner) const {
  // Waiters that cannot proceed until `owner` releases something: blocked
  // by a lock held by `owner` or by the owner of another dependent, or
  // sharing a lock with an earlier dependent (queued behind it). Every
  // waiter counts, not only those ahead of the caller: the chain may run
  // through a later one (build X waits behind Y, Y for a lock of Z, and Z's
  // step, queued after X, for a lock of X). Over-approximating only costs
  // fairness, never a deadlock.
  std::vector<RequestId> deps;
  if (!holdsAnything(owner)) return deps;
  std::set<std::string> waitedOn{owner};
  auto isDep = [&](RequestId id) { return std::find(deps.begin(), deps.end(), id) != deps.end(); };
  bool changed = true;
  while (changed) {
    changed = false;
    for (const auto& [id, r] : requests_) {
      if (r.held || r.owner == owner || isDep(id)) continue;
      bool depends = false;
      for (const WantedLock& w : r.wanted) {
        auto inst = instances_.find(w.instance);
        if (inst != instances_.end() && busyFor(w, r.owner)) {
          for (const std::string& o : inst->second.ownersExcept(r.owner)) {
            if (waitedOn.count(o)) depends = true;
          }
        }
        for (RequestId d : deps) {
          if (d >= id) continue;
          const auto& dw = requests_.at(d).wanted;
          if (std::any_of(dw.begin(), dw.end(),
                          [&](const WantedLock& x) { return x.instance == w.instance; })) {
            depends = true;
          }
        }
      }
      if (depends) {
        deps.push_back(id);
        waitedOn.insert(r.owner);
        changed = true;
      }
    }
  }
  return deps;
}

void LockManager::hold(Request& r) {
  WallTime now = clock_.wallNow();
  for (const WantedLock& w : r.wanted) {
    instances_[w.instance].add({r.id, r.owner, w.mode, now});
  }
  r.held = true;
}

void LockManager::dropUnusedRetired() {
  for (auto it = defs_.begin(); it != defs_.end();) {
    bool used = std::any_of(requests_.begin(), requests_.end(), [&](const auto& kv) {
      const auto& wanted = kv.second.wanted;
      return std::any_of(wanted.begin(), wanted.end(),
                         [&](const WantedLock& w) { return w.instance.lock == it->first; });
    });
    if (it->second.retired && !used) {
      it = defs_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::function<void()>> LockManager::grantWaiters(RequestId quiet) {
  // Grant in FIFO order; a pass repeats until nothing changes, since a grant
  // can change which waiters depend on whom. The callbacks are returned, not
  // run, so that they run once the manager is consistent.
  std::vector<std::function<void()>> callbacks;
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto& [id, r] : requests_) {
      if (r.held || !blockers(r.owner, r.wanted, id, true).empty()) continue;
      if (!tryHold(r)) continue;  // another master holds it: remoteBusy_ says so now
      if (r.onGranted && id != quiet) callbacks.push_back(std::move(r.onGranted));
      r.onGranted = nullptr;
      progress = true;
    }
  }
  return callbacks;
}

void LockManager::runCallbacks(std::vector<std::function<void()>> callbacks, bool notify) {
  // Every callback runs even if one throws: a granted request that is never
  // told would hold its locks forever. The first exception is rethrown.
  std::exception_ptr first;
  for (auto& cb : callbacks) {
    try {
      cb();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (notify && listener_) {
    try {
      listener_();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace bb
