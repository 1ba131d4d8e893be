#include "master/schedulers/scheduler_set.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"

#include "master/schedulers/force.hpp"
#include "master/schedulers/scheduler_type.hpp"
#include "master/schedulers/triggerable.hpp"

namespace bb {

namespace {
// Everything that defines a scheduler's behaviour, for "did it change?".
std::string fingerprint(const SchedulerEntry& e) {
  Json j{{"type", e.type},
         {"builders", e.builders},
         {"branch", e.branch ? Json(*e.branch) : Json()},
         {"timer", e.treeStableTimer},
         {"include", e.files.include},
         {"exclude", e.files.exclude},
         {"only_important", e.onlyImportant},
         {"sources", e.changeSources},
         {"priority", e.priority},
         {"properties", e.properties},
         {"filter",
          {{"branch", e.changeFilter.branch ? Json(*e.changeFilter.branch) : Json()},
           {"branch_patterns", e.changeFilter.branchPatterns},
           {"repositories", e.changeFilter.repositories},
           {"projects", e.changeFilter.projects},
           {"categories", e.changeFilter.categories}}},
         {"extra", e.extra}};
  return j.dump();
}
}  // namespace

SchedulerSet::~SchedulerSet() { stopAll(); }

bool SchedulerSet::isImplemented(const std::string& type) {
  const SchedulerType* t = findSchedulerType(type);
  return t && t->make;
}

std::string SchedulerSet::check(const SchedulerEntry& e) {
  const SchedulerType* t = findSchedulerType(e.type);
  if (t && t->check) return t->check(e);
  if (!t || !t->make)
    return "scheduler '" + e.name + "' has type '" + e.type +
           "', which this buildmaster does not implement yet";
  return "";
}

std::unique_ptr<Scheduler> SchedulerSet::make(const SchedulerEntry& e) {
  const SchedulerType* t = findSchedulerType(e.type);
  if (!t || !t->make) return nullptr;
  return t->make(e, ctx_);
}

void SchedulerSet::configure(const std::vector<SchedulerEntry>& entries) {
  std::map<std::string, const SchedulerEntry*> wanted;
  for (const auto& e : entries) wanted[e.name] = &e;
  for (auto it = schedulers_.begin(); it != schedulers_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || fingerprint(*w->second) != fingerprints_[it->first]) {
      spdlog::info("scheduler {} {}", it->first, w == wanted.end() ? "removed" : "reconfigured");
      if (standby_.erase(it->first) == 0) {
        it->second->stop();
        bus_.unsubscribe(it->second.get());
        // A changed scheduler is claimed again below, and is still ours.
        if (w == wanted.end()) {
          if (self_ && it->second->runsOnOneMaster()) {
            try {
              it->second->forgetChangeFloor();
            } catch (const std::exception& e) {
              spdlog::error("scheduler {}: cannot drop its change floor: {}", it->first, e.what());
            }
          }
          release(*it->second);
        }
      }
      fingerprints_.erase(it->first);
      it = schedulers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& e : entries) {
    if (schedulers_.count(e.name)) continue;
    auto s = make(e);
    if (!s) {
      spdlog::error("scheduler {}: type {} is not implemented by this master; it is ignored",
                    e.name, e.type);
      continue;
    }
    if (claim(*s)) {
      activate(*s);
    } else {
      standby_.insert(e.name);
      spdlog::info("scheduler {}: another master runs it; standing by", e.name);
    }
    fingerprints_[e.name] = fingerprint(e);
    schedulers_[e.name] = std::move(s);
  }
}

void SchedulerSet::activate(Scheduler& s) {
  if (s.subscribesToChanges()) bus_.subscribe(&s);
  s.start();
  catchUp(s);
}

int SchedulerSet::catchUp(Scheduler& s) {
  // With one master a change and every decision about it commit together:
  // nothing to catch up on.
  if (!self_ || !s.runsOnOneMaster()) return 0;
  try {
    return s.catchUpChanges();
  } catch (const std::exception& e) {
    spdlog::error("scheduler {}: cannot catch up on changes: {}; trying again later", s.name(), e.what());
    return 0;
  }
}

int SchedulerSet::catchUpChanges() {
  int n = 0;
  for (auto& [name, s] : schedulers_)
    if (!standby_.count(name)) n += catchUp(*s);
  return n;
}

bool SchedulerSet::claim(const Scheduler& s) {
  if (!self_ || !s.runsOnOneMaster()) return true;
  try {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         ctx_.clock.wallNow().time_since_epoch())
                         .count();
    return ctx_.db.claimScheduler(s.name(), *self_, now);
  } catch (const std::exception& e) {
    spdlog::error("scheduler {}: cannot claim it in the database: {}; standing by", s.name(), e.what());
    return false;
  }
}

void SchedulerSet::release(const Scheduler& s) {
  if (!self_ || !s.runsOnOneMaster()) return;
  try {
    ctx_.db.releaseScheduler(s.name(), *self_);
  } catch (const std::exception& e) {
    spdlog::error("scheduler {}: cannot release it in the database: {}", s.name(), e.what());
  }
}

int SchedulerSet::claimUnowned() {
  int claimed = 0;
  for (auto it = standby_.begin(); it != standby_.end();) {
    Scheduler& s = *schedulers_.at(*it);
    if (!claim(s)) {
      ++it;
      continue;
    }
    spdlog::info("scheduler {}: taken over by this master; continuing from its stored state", s.name());
    it = standby_.erase(it);
    ++claimed;
    try {
      activate(s);
    } catch (const std::exception& e) {
      spdlog::error("scheduler {}: cannot start after taking it over: {}", s.name(), e.what());
    }
  }
  return claimed;
}

int SchedulerSet::stopAll() {
  int released = 0;
  for (auto& [name, s] : schedulers_) {
    if (standby_.count(name)) continue;
    s->stop();
    bus_.unsubscribe(s.get());
    if (self_ && s->runsOnOneMaster()) {
      release(*s);
      ++released;
    }
  }
  schedulers_.clear();
  fingerprints_.clear();
  standby_.clear();
  return released;
}

Scheduler* SchedulerSet::find(const std::string& name) const {
  auto it = schedulers_.find(name);
  return it == schedulers_.end() ? nullptr : it->second.get();
}

ForceScheduler* SchedulerSet::findForce(const std::string& name) const {
  return dynamic_cast<ForceScheduler*>(find(name));
}

TriggerableScheduler* SchedulerSet::findTriggerable(const std::string& name) const {
  return dynamic_cast<TriggerableScheduler*>(find(name));
}

std::vector<Scheduler*> SchedulerSet::all() const {
  std::vector<Scheduler*> out;
  for (const auto& [n, s] : schedulers_) out.push_back(s.get());
  return out;
}

}  // namespace bb
