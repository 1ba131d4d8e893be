#pragma once
// The vocabulary of locks: scope and access mode, a lock's definition from
// the config, one lock instance (a lock on the master, or a lock on one
// slave) and who holds it. The LockManager (lock_manager.hpp) decides who
// may hold what; these types only describe it.
#include <compare>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_loop.hpp"
#include "config/master_config.hpp"

namespace bb {

// A request for a lock that cannot be served: unknown lock, bad access
// mode, slave-scoped lock without a slave, invalid lock config.
class LockError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LockScope { Master, Slave };
enum class LockMode { Exclusive, Counting };

// A lock access mode as registered: its config name, which is also how
// status shows it ("waiting for lock 'db' (exclusive)").
struct LockAccessMode {
  LockMode mode;
  std::string_view name;
};
// Every access mode, one line each in lock.cpp; the first is the default.
const std::vector<LockAccessMode>& lockAccessModes();
// Their names, for the config loader.
std::vector<std::string> lockAccessNames();

// "master" / "slave".
std::string_view toString(LockScope scope);
// The mode's registered name.
std::string_view toString(LockMode mode);
// Parses "master" / "slave"; throws LockError naming `lock` otherwise.
LockScope parseLockScope(std::string_view text, const std::string& lock);
// Parses a registered mode name; throws LockError naming `lock` otherwise.
LockMode parseLockMode(std::string_view text, const std::string& lock);

using RequestId = std::uint64_t;

// A lock as configured. `retired` means it was removed by a reconfig but is
// still held or waited for; new requests for it are refused.
struct LockDef {
  std::string name;
  LockScope scope = LockScope::Master;
  int maxCount = 1;
  std::map<std::string, int> maxCountForSlave;
  bool retired = false;

  // Validates a config entry; throws LockError saying what is wrong.
  static LockDef fromEntry(const LockEntry& entry);
  // Counting holders allowed on the instance for `slave` ("" for master
  // scope): maxCountForSlave[slave] if set, else maxCount.
  int limitFor(const std::string& slave) const;
};

// One lock instance: (name) for a master-scoped lock, (name, slave) for a
// slave-scoped one. `slave` is empty for master scope.
struct LockInstanceId {
  std::string lock;
  std::string slave;
  auto operator<=>(const LockInstanceId&) const = default;
  bool operator==(const LockInstanceId&) const = default;
};

// "lock 'db'" or "lock 'cpu' on slave 'linux-1'".
std::string toString(const LockInstanceId& id);

// One lock instance a request wants, and how.
struct WantedLock {
  LockInstanceId instance;
  LockMode mode = LockMode::Exclusive;
};

// One granted request's hold on a lock instance.
struct Holding {
  RequestId request = 0;
  std::string owner;
  LockMode mode = LockMode::Exclusive;
  WallTime since;
};

// Who holds one lock instance. Holding is counted per owner: several
// requests of one owner (a build's build locks and its step locks) use one
// counting slot, and an owner never waits for a lock it already holds.
class LockInstance {
 public:
  // Adds a hold; the manager has checked that it is allowed.
  void add(Holding holding);
  // Removes the hold of `request`; true if there was one.
  bool remove(RequestId request);
  bool empty() const { return holdings_.empty(); }
  const std::vector<Holding>& holdings() const { return holdings_; }

  // True if `owner` already holds this instance in a mode that covers
  // `mode` (exclusive covers both; counting covers counting).
  bool heldBy(const std::string& owner, LockMode mode) const;
  // Distinct owners other than `owner` holding it (the counting slots used
  // by others).
  int otherOwners(const std::string& owner) const;
  // True if an owner other than `owner` holds it exclusively.
  bool exclusiveByOther(const std::string& owner) const;
  // Owners other than `owner`, in the order they got it, without repeats.
  std::vector<std::string> ownersExcept(const std::string& owner) const;

 private:
  std::vector<Holding> holdings_;  // in grant order
};

}  // namespace bb
