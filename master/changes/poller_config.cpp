#include "master/changes/poller_config.hpp"

#include "common/message.hpp"  // ProtocolError
#include "common/vcs_args.hpp"
#include "config/yaml_util.hpp"

namespace bb {

void parsePollerCommon(cfg::MapReader& r, ChangeSourceEntry& c) {
  if (auto n = r.integer("interval", 1, 86400)) c.interval = static_cast<int>(*n);
  if (auto s = r.string("project")) c.project = *s;
  if (auto s = r.string("category")) c.category = *s;
}

bool parseBranchPoller(cfg::MapReader& r, ChangeSourceEntry& c, const BranchPollerSyntax& syntax) {
  r.allowKeys({"name", "type", "repo", "branches", "interval", "project", "category"});
  bool ok = true;
  auto repo = r.string("repo", true);
  if (repo && repo->empty()) {
    r.error(r.markOf("repo"), std::string("repo must be ") + syntax.repoIs + ", not empty");
    repo.reset();
  }
  if (repo) {
    try {
      vcs::checkRepoUrl("repo", *repo);
    } catch (const ProtocolError& e) {
      r.error(r.markOf("repo"), e.what());
      repo.reset();
    }
  }
  auto branches = r.stringList("branches", true);
  if (branches && branches->empty()) {
    r.error(r.markOf("branches"), syntax.noBranches);
    branches.reset();
  }
  for (const auto& b : branches.value_or(std::vector<std::string>{})) {
    try {
      syntax.checkBranch("branch name", b);
    } catch (const ProtocolError& e) {
      r.error(r.markOf("branches"), e.what());
      ok = false;
    }
  }
  parsePollerCommon(r, c);
  if (!repo || !branches) return false;
  c.repo = *repo;
  c.branches = *branches;
  return ok;
}

}  // namespace bb
