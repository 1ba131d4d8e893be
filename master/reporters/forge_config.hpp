#pragma once
// The settings of a commit-status reporter (`type: github_status`,
// `gitlab_status` or `gitea_status`) and their config check.
// docs/notifiers.md describes each key.
#include <optional>
#include <string>

#include "master/reporters/forge_status.hpp"
#include "master/reporters/http_reporter_config.hpp"

namespace bb {

struct ForgeOptions : HttpReporterOptions {
  Forge forge = Forge::GitHub;
  std::string baseUrl;  // the forge's default when not given
  std::string token;    // "%(secret:NAME)s"
  // "owner/repo" (GitHub, Gitea) or the project's path or numeric id
  // (GitLab); empty: derived from each build's repository URL.
  std::string repository;
  std::string context = "buildbot/{builder}";  // a template (forgeContextPlaceholders)
};

// The placeholders a context may use.
const std::vector<std::string>& forgeContextPlaceholders();

// The config check of `forge`'s reporter type.
bool parseForgeReporter(Forge forge, cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e);

}  // namespace bb
