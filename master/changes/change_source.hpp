#pragma once
// A change source: something that turns outside events into Changes on
// the ChangeBus (a poller today; webhooks and try jobs plug in the same
// way). Types are registered in one place (change_source_types.cpp): a
// name, a factory, the config check of its keys and a check, and each
// source describes its own state
// for status.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "config/config_kinds.hpp"
#include "config/master_config.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class ChangeBus;
class SecretStore;

// What a change source may use. Blocking work (running a VCS client)
// goes to `offload` (a worker thread) and comes back with `post`.
struct ChangeSourceServices {
  std::string masterDir;
  db::Database& db;
  ChangeBus& bus;
  Clock& clock;
  std::function<void(std::function<void()>)> offload;
  std::function<void(std::function<void()>)> post;
  // The secrets as the current config read them (set before sources start).
  std::shared_ptr<const SecretStore> secrets;
};

class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual const ChangeSourceEntry& config() const = 0;
  // {name, type, ...its own state: last poll, last error, next poll...}.
  virtual Json describe() const = 0;
};

struct ChangeSourceType {
  std::string name;  // the config's `type`
  // The config check of its keys (the type's static declareType fills it).
  ChangeSourceKind config;
  std::function<std::unique_ptr<ChangeSource>(const ChangeSourceEntry&, ChangeSourceServices&)> make;
  // What the master checks beyond config/: the problem, or "".
  std::function<std::string(const ChangeSourceEntry&)> check;
};

// Every change source type this master runs (change_source_types.cpp).
const std::vector<ChangeSourceType>& changeSourceTypes();
// The type named `name`, or nullptr.
const ChangeSourceType* findChangeSourceType(const std::string& name);

}  // namespace bb
