#pragma once
// The extension points as the config loader sees them. config/ reads the
// keys every entry has (a scheduler's name, builders, change filter...; a
// step's name) and hands the rest to the entry's kind: a scheduler type, a
// step type, a change source type, a lock access mode. config/ lists no
// kind itself: the master fills a ConfigKinds from its registration lists
// (master/config_kinds.cpp), and each kind's check lives in the type's
// own file, next to the code that runs it.
#include <functional>
#include <string>
#include <vector>

#include "config/master_config.hpp"

namespace bb {

namespace cfg {
class MapReader;
struct MasterParse;
}  // namespace cfg

// A scheduler type: its keys besides the common ones (they arrive in
// SchedulerEntry::extra) and their checks.
struct SchedulerKind {
  std::string name;                // the config's `type`
  std::vector<std::string> keys;   // its own keys
  bool triggerable = false;        // a trigger step may start it
  // Whether an entry looks at changes, so a change filter means something
  // (empty: never). `listensWhen` completes "a NAME scheduler looks at
  // changes only ..." for a type that listens only with some setting.
  std::function<bool(const SchedulerEntry&)> listensToChanges;
  std::string listensWhen;
  // Checks its own keys (and may fill the entry's change filter); records
  // every problem in `r` and returns false if there was one. Empty: none.
  std::function<bool(const cfg::MapReader& r, cfg::MasterParse& p, SchedulerEntry& s)> check;
};

// A step type: reads the step's keys (after `name`) into `s`, recording
// every problem in `r`; false if there was one. It calls r.allowKeys().
struct StepKind {
  std::string name;  // the step's one key: {NAME: {...}}
  std::function<bool(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s)> parse;
};

// A change source type: reads the entry's keys after `name` and `type`
// (it calls r.allowKeys()); false if there was a problem.
struct ChangeSourceKind {
  std::string name;
  std::function<bool(cfg::MapReader& r, cfg::MasterParse& p, ChangeSourceEntry& c)> parse;
};

// A reporter type: reads the entry's keys after `name` and `type` (it
// calls r.allowKeys() with "name" and "type" among its keys) and sets
// e.options; false if there was a problem.
struct ReporterKind {
  std::string name;
  std::function<bool(cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e)> parse;
};

// Every kind a master config may use, in the order error messages list them.
struct ConfigKinds {
  std::vector<SchedulerKind> schedulers;
  std::vector<StepKind> steps;
  std::vector<ChangeSourceKind> changeSources;
  std::vector<ReporterKind> reporters;
  // Lock access modes; the first is the default when `access` is left out.
  std::vector<std::string> lockAccess;

  const SchedulerKind* scheduler(const std::string& name) const;
  const StepKind* step(const std::string& name) const;
  const ChangeSourceKind* changeSource(const std::string& name) const;
  const ReporterKind* reporter(const std::string& name) const;
};

}  // namespace bb
