#pragma once
// Commit status as each forge's API takes it: GitHub
// (POST {api}/repos/{owner}/{repo}/statuses/{sha}), GitLab
// (POST {base}/api/v4/projects/{url-encoded path}/statuses/{sha}) and Gitea
// (POST {base}/api/v1/repos/{owner}/{repo}/statuses/{sha}). Pure functions:
// the reporter (forge_reporter.hpp) decides what to say, these say it in
// the forge's words, and http_post.hpp sends it.
#include <optional>
#include <string>
#include <string_view>

#include "common/results.hpp"
#include "master/reporters/http_post.hpp"
#include "master/forge.hpp"

namespace bb {

// "github", "gitlab", "gitea".
std::string_view toString(Forge f);
// The default base URL: https://api.github.com (GitHub's API root),
// https://gitlab.com (GitLab's site; /api/v4 is added), none for Gitea
// (empty: base_url is required).
std::string_view defaultForgeBaseUrl(Forge f);

// Where a build is: requested (pending), running, or ended with a result.
enum class BuildPhase { Requested, Running, Finished, Cancelled };

// What one status update says, in the project's terms.
struct CommitStatus {
  BuildPhase phase = BuildPhase::Requested;
  Result result = Result::Success;  // for Finished
  std::string sha, branch;          // branch: GitLab's `ref` (omitted when empty)
  std::string context;              // GitHub/Gitea `context`, GitLab `name`
  std::string description, targetUrl;
};

// The forge's state word for `s`, or nullopt when the forge has nothing
// to say: GitLab cannot go back from running to pending, so a build ended
// RETRY (its request runs again) is not posted there. GitHub and Gitea
// have no "running": a running build is "pending" with its description.
std::optional<std::string> forgeState(Forge f, const CommitStatus& s);

// "owner/repo" (GitHub, Gitea) or the project's full path
// "group/sub/project" (GitLab) from a repository URL:
// https://host/owner/repo(.git), git@host:owner/repo.git,
// ssh://git@host[:port]/owner/repo.git; for a URL without a host (a local
// path), its last two path components. nullopt when it has fewer than two.
std::optional<std::string> forgeRepoPath(Forge f, const std::string& repositoryUrl);

// Percent-encodes everything but unreserved characters ("a/b" -> "a%2Fb").
std::string urlEncode(std::string_view s);

// The request, without its timeout and TLS settings: URL, headers (the
// token in the form the forge documents: GitHub `Authorization: Bearer`,
// GitLab `PRIVATE-TOKEN`, Gitea `Authorization: token`) and JSON body.
// `baseUrl` without a trailing slash is fine either way.
HttpPost forgeStatusRequest(Forge f, const std::string& baseUrl, const std::string& repoPath,
                            const std::string& token, const CommitStatus& s, const std::string& state);

}  // namespace bb
