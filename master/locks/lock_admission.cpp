#include "master/locks/lock_admission.hpp"

#include <algorithm>
#include <functional>

#include "master/locks/lock_manager.hpp"

namespace bb {

namespace {

const WantedLock* findInstance(const std::vector<WantedLock>& v, const LockInstanceId& id) {
  for (const WantedLock& w : v)
    if (w.instance == id) return &w;
  return nullptr;
}

}  // namespace

std::vector<LockAccess> stepLocksOf(const BuilderEntry& b) {
  std::vector<LockAccess> out;
  for (const StepConfig& s : b.steps) {
    for (const LockAccess& a : s.locks) {
      auto same = std::find_if(out.begin(), out.end(), [&](const LockAccess& o) { return o.lock == a.lock; });
      if (same == out.end()) out.push_back(a);
      else if (a.access == "exclusive") same->access = "exclusive";
    }
  }
  return out;
}

LockAdmission::Resolved LockAdmission::resolve(const BuildLockPlan& plan) const {
  Resolved r;
  r.name = plan.name;
  auto add = [&](const std::vector<LockAccess>& from, std::vector<WantedLock>& to) {
    for (const LockAccess& a : from) {
      const auto scope = locks_.scopeOf(a.lock);
      if (!scope) continue;  // unknown: the build fails on it when it starts
      if (*scope == LockScope::Slave && plan.slave.empty()) continue;
      LockInstanceId id{a.lock, *scope == LockScope::Slave ? plan.slave : ""};
      const LockMode mode = a.access == "counting" ? LockMode::Counting : LockMode::Exclusive;
      auto same = std::find_if(to.begin(), to.end(), [&](const WantedLock& w) { return w.instance == id; });
      if (same == to.end()) to.push_back({id, mode});
      else if (mode == LockMode::Exclusive) same->mode = LockMode::Exclusive;
    }
  };
  add(plan.buildLocks, r.held);
  add(plan.stepLocks, r.steps);
  return r;
}

bool LockAdmission::mayWaitFor(const Resolved& x, const Resolved& y,
                               const std::vector<Resolved>& all) const {
  for (const WantedLock& w : x.steps) {
    const WantedLock* own = findInstance(x.held, w.instance);
    // Held in a covering mode: the step is granted at once.
    if (own && (own->mode == LockMode::Exclusive || w.mode == LockMode::Counting)) continue;
    const WantedLock* h = findInstance(y.held, w.instance);
    if (!h) continue;
    if (w.mode == LockMode::Exclusive || h->mode == LockMode::Exclusive) return true;
    // Both counting: X waits for Y only if builds holding it for their
    // whole run can take every slot.
    int holders = 0;
    for (const Resolved& z : all)
      if (&z != &x && findInstance(z.held, w.instance)) ++holders;
    if (holders >= locks_.limitOf(w.instance)) return true;
  }
  return false;
}

std::vector<std::string> LockAdmission::findCycle(const std::vector<Resolved>& all) const {
  const std::size_t n = all.size();
  std::vector<std::vector<std::size_t>> edges(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (i != j && mayWaitFor(all[i], all[j], all)) edges[i].push_back(j);
  // Depth-first search with colours; the stack gives the cycle's members.
  std::vector<int> colour(n, 0);  // 0 new, 1 on the stack, 2 done
  std::vector<std::size_t> stack;
  std::vector<std::string> cycle;
  std::function<bool(std::size_t)> visit = [&](std::size_t v) {
    colour[v] = 1;
    stack.push_back(v);
    for (std::size_t w : edges[v]) {
      if (colour[w] == 1) {
        auto from = std::find(stack.begin(), stack.end(), w);
        for (auto it = from; it != stack.end(); ++it) cycle.push_back(all[*it].name);
        return true;
      }
      if (colour[w] == 0 && visit(w)) return true;
    }
    stack.pop_back();
    colour[v] = 2;
    return false;
  };
  // The candidate is last: start there, so the cycle reads from it.
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t v = n - 1 - k;
    if (colour[v] == 0 && visit(v)) return cycle;
  }
  return {};
}

std::vector<LockAdmission::Resolved> LockAdmission::resolveAll(bool masterScopedOnly) const {
  std::vector<Resolved> all;
  all.reserve(admitted_.size() + others_.size() + 2);
  auto add = [&](const BuildLockPlan& p) {
    if (!masterScopedOnly) {
      all.push_back(resolve(p));
      return;
    }
    BuildLockPlan q = p;
    q.slave.clear();
    all.push_back(resolve(q));
  };
  for (const auto& [key, p] : admitted_) add(p);
  for (const BuildLockPlan& p : others_) add(p);
  return all;
}

void LockAdmission::refreshOthers() {
  if (shared_) others_ = shared_->others();
}

std::string LockAdmission::whyNot(const BuildLockPlan& plan) const {
  // A build that holds nothing can only be at the end of a chain of waits.
  if (plan.buildLocks.empty()) return "";
  std::vector<Resolved> all = resolveAll(false);
  all.push_back(resolve(plan));
  const std::vector<std::string> cycle = findCycle(all);
  if (cycle.empty()) return "";
  std::string chain;
  for (const std::string& name : cycle) chain += name + " -> ";
  chain += cycle.front();
  return "it could deadlock with running builds over step and build locks (" + chain +
         "; each may wait in a step for a lock the next holds for its whole build); it "
         "starts when they finish";
}

bool LockAdmission::admit(std::int64_t key, BuildLockPlan plan) {
  // A plan without build locks never closes a cycle (nobody waits for it)
  // and is not shared.
  if (shared_ && !plan.buildLocks.empty()) {
    const bool ok = shared_->admit(key, plan, [&](const std::vector<BuildLockPlan>& others) {
      others_ = others;
      return whyNot(plan).empty();
    });
    if (!ok) return false;
    sharedKeys_.insert(key);
  }
  admitted_[key] = std::move(plan);
  return true;
}

void LockAdmission::remove(std::int64_t key) {
  admitted_.erase(key);
  if (sharedKeys_.erase(key) && shared_) shared_->remove(key);
}

bool LockAdmission::contends(const BuildLockPlan& blocked, const BuildLockPlan& later) const {
  BuildLockPlan a = blocked, b = later;
  a.slave.clear();  // master-scoped locks only
  b.slave.clear();
  std::vector<Resolved> all = resolveAll(true);
  all.push_back(resolve(a));
  all.push_back(resolve(b));
  const Resolved& x = all[all.size() - 2];
  const Resolved& y = all.back();
  // Build locks of both: the distributor's own FIFO rule covers those.
  return mayWaitFor(x, y, all) || mayWaitFor(y, x, all);
}

}  // namespace bb
