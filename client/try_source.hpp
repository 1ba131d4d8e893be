#pragma once
// What `buildbot try` sends: the patch and its base, found from the tree
// the developer is in (git: local commits and uncommitted changes against
// the merge-base with the tracked upstream branch; hg: local commits and
// uncommitted changes against the newest public ancestor; svn: uncommitted
// changes against BASE), or read from --diff.
#include <string>

namespace bb::client {

struct TrySource {
  std::string baseRevision;  // the merge-base
  std::string branch;        // the upstream branch, without its remote
  std::string patch;         // `git diff --binary` against the base
  int patchLevel = 1;
  std::string vcs;  // "git", "hg", "svn"
};

// Reads the git tree at `dir` (its top or inside it). Throws UsageError
// with what is missing (not a git tree, no upstream branch...).
TrySource gitTrySource(const std::string& dir);
// hg: the base is last(::. and public()) (what was pulled or pushed), its
// branch the branch; the patch `hg diff --git --rev BASE`, level 1.
TrySource hgTrySource(const std::string& dir);
// svn: the base is the working copy's revision, the branch its path below
// the repository root (^/trunk -> trunk); the patch `svn diff`, level 0.
TrySource svnTrySource(const std::string& dir);
// The system of the tree at `dir` (git, then hg, then svn); UsageError
// naming --diff when none.
TrySource findTrySource(const std::string& dir);

}  // namespace bb::client
