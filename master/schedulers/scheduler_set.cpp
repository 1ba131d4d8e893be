#include "master/schedulers/scheduler_set.hpp"

#include <spdlog/spdlog.h>

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
      it->second->stop();
      bus_.unsubscribe(it->second.get());
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
    if (s->subscribesToChanges()) bus_.subscribe(s.get());
    s->start();
    fingerprints_[e.name] = fingerprint(e);
    schedulers_[e.name] = std::move(s);
  }
}

void SchedulerSet::stopAll() {
  for (auto& [name, s] : schedulers_) {
    s->stop();
    bus_.unsubscribe(s.get());
  }
  schedulers_.clear();
  fingerprints_.clear();
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
