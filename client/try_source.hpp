#pragma once
// What `buildbot try` sends: the patch and its base, found from the tree
// the developer is in (git: local commits and uncommitted changes against
// the merge-base with the tracked upstream branch), or read from --diff.
#include <string>

namespace bb::client {

struct TrySource {
  std::string baseRevision;  // the merge-base
  std::string branch;        // the upstream branch, without its remote
  std::string patch;         // `git diff --binary` against the base
  int patchLevel = 1;
  std::string vcs;  // "git"
};

// Reads the git tree at `dir` (its top or inside it). Throws UsageError
// with what is missing (not a git tree, no upstream branch...).
TrySource gitTrySource(const std::string& dir);

}  // namespace bb::client
