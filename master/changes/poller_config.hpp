#pragma once
// The config of the pollers that watch named branches of one repository
// (git_poller, hg_poller, brz_poller): `repo`, `branches`, `interval`,
// `project`, `category`, read and checked in one place. Each type says
// only what differs: how its repository and branches are described in
// errors and how a branch name is checked.
#include <string>

#include "master/changes/change_source.hpp"

namespace bb {
namespace cfg {
class MapReader;
}

struct BranchPollerSyntax {
  // Ends "repo must be ..., not empty": "a git URL or path".
  const char* repoIs;
  // The error for an empty list: "branches must name at least one branch
  // to poll, e.g. [main]".
  const char* noBranches;
  // Throws ProtocolError for a branch name the type cannot pass to its
  // VCS safely (vcs::checkArgument, vcs::checkBranchPath).
  void (*checkBranch)(const std::string& what, const std::string& branch);
};

// Reads the keys above into `c`; records every mistake on `r` and returns
// false if there was one.
bool parseBranchPoller(cfg::MapReader& r, ChangeSourceEntry& c, const BranchPollerSyntax& syntax);

// `interval` (1..86400 s), `project` and `category`: every poller's keys.
void parsePollerCommon(cfg::MapReader& r, ChangeSourceEntry& c);

}  // namespace bb
