#include "master/locks/lock.hpp"

#include <algorithm>

namespace bb {

std::string_view toString(LockScope scope) {
  switch (scope) {
    case LockScope::Master: return "master";
    case LockScope::Slave: return "slave";
  }
  return "unknown";
}

// The lock access modes: one line each; the first is the default when a
// config leaves `access` out. What each mode admits is the LockManager's
// rule (lock_manager.cpp), keyed by LockMode.
const std::vector<LockAccessMode>& lockAccessModes() {
  static const std::vector<LockAccessMode> modes{
      {LockMode::Exclusive, "exclusive"},  // the only holder
      {LockMode::Counting, "counting"},    // one of up to max_count holders
  };
  return modes;
}

std::vector<std::string> lockAccessNames() {
  std::vector<std::string> out;
  for (const auto& m : lockAccessModes()) out.emplace_back(m.name);
  return out;
}

std::string_view toString(LockMode mode) {
  for (const auto& m : lockAccessModes())
    if (m.mode == mode) return m.name;
  return "unknown";
}

LockScope parseLockScope(std::string_view text, const std::string& lock) {
  if (text == "master") return LockScope::Master;
  if (text == "slave") return LockScope::Slave;
  throw LockError("lock '" + lock + "': scope must be 'master' or 'slave', got '" +
                  std::string(text) + "'");
}

LockMode parseLockMode(std::string_view text, const std::string& lock) {
  std::string names;
  for (const auto& m : lockAccessModes()) {
    if (text == m.name) return m.mode;
    names += (names.empty() ? "'" : " or '") + std::string(m.name) + "'";
  }
  throw LockError("lock '" + lock + "': access must be " + names + ", got '" + std::string(text) + "'");
}

LockDef LockDef::fromEntry(const LockEntry& entry) {
  if (entry.name.empty()) throw LockError("a lock has an empty name");
  LockDef def;
  def.name = entry.name;
  def.scope = parseLockScope(entry.scope, entry.name);
  if (entry.maxCount < 1) {
    throw LockError("lock '" + entry.name + "': max_count must be at least 1, got " +
                    std::to_string(entry.maxCount));
  }
  def.maxCount = entry.maxCount;
  if (!entry.maxCountForSlave.empty() && def.scope != LockScope::Slave) {
    throw LockError("lock '" + entry.name +
                    "': max_count_for_slave only applies to scope: slave locks");
  }
  for (const auto& [slave, count] : entry.maxCountForSlave) {
    if (count < 1) {
      throw LockError("lock '" + entry.name + "': max_count_for_slave for '" + slave +
                      "' must be at least 1, got " + std::to_string(count));
    }
  }
  def.maxCountForSlave = entry.maxCountForSlave;
  return def;
}

int LockDef::limitFor(const std::string& slave) const {
  if (scope == LockScope::Slave) {
    auto it = maxCountForSlave.find(slave);
    if (it != maxCountForSlave.end()) return it->second;
  }
  return maxCount;
}

std::string toString(const LockInstanceId& id) {
  std::string out = "lock '" + id.lock + "'";
  if (!id.slave.empty()) out += " on slave '" + id.slave + "'";
  return out;
}

void LockInstance::add(Holding holding) { holdings_.push_back(std::move(holding)); }

bool LockInstance::remove(RequestId request) {
  auto it = std::find_if(holdings_.begin(), holdings_.end(),
                         [&](const Holding& h) { return h.request == request; });
  if (it == holdings_.end()) return false;
  holdings_.erase(it);
  return true;
}

bool LockInstance::heldBy(const std::string& owner, LockMode mode) const {
  return std::any_of(holdings_.begin(), holdings_.end(), [&](const Holding& h) {
    return h.owner == owner && (h.mode == LockMode::Exclusive || mode == LockMode::Counting);
  });
}

int LockInstance::otherOwners(const std::string& owner) const {
  return static_cast<int>(ownersExcept(owner).size());
}

bool LockInstance::exclusiveByOther(const std::string& owner) const {
  return std::any_of(holdings_.begin(), holdings_.end(), [&](const Holding& h) {
    return h.owner != owner && h.mode == LockMode::Exclusive;
  });
}

std::vector<std::string> LockInstance::ownersExcept(const std::string& owner) const {
  std::vector<std::string> out;
  for (const Holding& h : holdings_) {
    if (h.owner == owner) continue;
    if (std::find(out.begin(), out.end(), h.owner) == out.end()) out.push_back(h.owner);
  }
  return out;
}

}  // namespace bb
