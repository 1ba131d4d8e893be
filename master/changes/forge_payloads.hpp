#pragma once
// What the forges' webhooks say, as Changes: GitHub, GitLab and Gitea (or
// Forgejo) push and pull/merge request events, read from their documented
// JSON. No HTTP and no database here (webhook_source.cpp does those), so
// these are plain functions the unit tests call with the forges' samples.
//
// Conventions (docs/configuration.md, "Forge webhooks"):
//  - a push makes one change per new commit, oldest first, on the branch
//    the ref names ("refs/heads/" dropped; a tag keeps "refs/tags/NAME");
//    a push that deletes a branch, or has no new commits, makes none;
//  - a pull request (GitHub, Gitea) that is opened, reopened or has new
//    commits makes one change on branch "refs/pull/N/head" at the PR's head
//    revision; a GitLab merge request, on "refs/merge-requests/N/head".
//    Both are refs the forge keeps in the target repository, so a git step
//    can fetch them. Other actions (closed, labelled, edited) make none.
#include <cstdint>
#include <string>
#include <vector>

#include "master/db/records.hpp"
#include "master/forge.hpp"

namespace bb {


struct ForgeEvent {
  std::vector<db::ChangeRecord> changes;  // project is the repository's owner/name; source, category not set
  std::string ignored;  // when no change is made: why (for the answer and the log)
  bool ping = false;    // GitHub's ping: answered, nothing stored
};

// The event named by the forge's event header (X-GitHub-Event,
// X-Gitlab-Event, X-Gitea-Event) with its decoded JSON body. Throws
// std::invalid_argument saying which field is missing or of the wrong type.
ForgeEvent readForgeEvent(Forge forge, const std::string& event, const Json& payload);

}  // namespace bb
