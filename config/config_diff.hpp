#pragma once
// What a reconfig changes: the entries of each named section (builders,
// schedulers, slaves, change sources, users, locks, reporters, secrets) that were added,
// removed or changed between two loaded configs, compared by name and by
// content (key order, quoting and YAML style do not count as changes).
#include <string>
#include <vector>

#include "config/master_config.hpp"

namespace bb {

struct SectionChanges {
  std::string section;  // "builders", "change sources", ...
  std::vector<std::string> added, removed, changed;
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// The sections that differ, in a fixed order; the `master` section is
// reported as a whole ("changed"). Uses each config's `text`, and the
// secrets' values (a changed value is reported by the secret's name).
std::vector<SectionChanges> diffConfigs(const MasterConfig& before, const MasterConfig& after);

// One line: "builders: added b2, changed b1; slaves: removed s3", or
// "nothing changed".
std::string describeChanges(const std::vector<SectionChanges>& changes);

}  // namespace bb
