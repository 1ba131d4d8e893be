#include "client/try_source.hpp"

#include <stdlib.h>

#include <filesystem>

#include "client/client_error.hpp"
#include "common/subprocess.hpp"

namespace bb::client {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

SubprocessResult git(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "git");
  return runSubprocess(args, dir, std::chrono::seconds(120));
}

SubprocessResult tool(const char* name, const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), name);
  return runSubprocess(args, dir, std::chrono::seconds(120));
}

// The nearest directory from `dir` up that holds `meta` (".hg", ".svn").
bool inside(const std::string& dir, const char* meta) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::path p = fs::absolute(dir, ec).lexically_normal(); !p.empty(); p = p.parent_path()) {
    if (fs::is_directory(p / meta, ec)) return true;
    if (p == p.parent_path()) break;
  }
  return false;
}

}  // namespace

TrySource gitTrySource(const std::string& dir) {
  TrySource s;
  s.vcs = "git";
  auto top = git(dir, {"rev-parse", "--show-toplevel"});
  if (top.exitCode != 0)
    throw UsageError("buildbot try: '" + dir + "' is not in a git tree (" + trimmed(top.err) +
                     "); give the patch with --diff FILE and --baserev REV");
  const std::string root = trimmed(top.out);
  auto up = git(root, {"rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"});
  if (up.exitCode != 0)
    throw UsageError("buildbot try: the current branch tracks no upstream branch (" +
                     trimmed(up.err) + "); set one with 'git branch -u REMOTE/BRANCH'");
  const std::string upstream = trimmed(up.out);
  auto slash = upstream.find('/');
  s.branch = slash == std::string::npos ? upstream : upstream.substr(slash + 1);
  auto base = git(root, {"merge-base", "HEAD", "@{upstream}"});
  if (base.exitCode != 0)
    throw UsageError("buildbot try: no merge-base of HEAD and " + upstream + ": " + trimmed(base.err));
  s.baseRevision = trimmed(base.out);
  // Committed and uncommitted changes to tracked files, against the base.
  auto diff = git(root, {"diff", "--binary", "--full-index", "--no-color", "--no-ext-diff", s.baseRevision});
  if (diff.exitCode != 0) throw UsageError("buildbot try: git diff failed: " + trimmed(diff.err));
  s.patch = diff.out;
  return s;
}

TrySource hgTrySource(const std::string& dir) {
  ::setenv("HGPLAIN", "1", 1);  // plain output whatever the user's hgrc says
  TrySource s;
  s.vcs = "hg";
  auto root = tool("hg", dir, {"root"});
  if (root.exitCode != 0) throw UsageError("buildbot try: hg root failed: " + trimmed(root.err));
  const std::string top = trimmed(root.out);
  // The upstream: the newest public ancestor of the working directory's
  // parent (what was pulled or pushed); local commits are drafts.
  auto base = tool("hg", top, {"log", "--rev", "last(::. and public())", "--template", "{node}"});
  if (base.exitCode != 0) throw UsageError("buildbot try: hg log failed: " + trimmed(base.err));
  s.baseRevision = trimmed(base.out);
  if (s.baseRevision.empty())
    throw UsageError("buildbot try: this Mercurial tree has no public revision to build on (nothing pulled "
                     "or pushed yet); give the patch with --diff FILE and --baserev REV");
  auto branch = tool("hg", top, {"log", "--rev", s.baseRevision, "--template", "{branch}"});
  if (branch.exitCode != 0) throw UsageError("buildbot try: hg log failed: " + trimmed(branch.err));
  s.branch = trimmed(branch.out);
  // Local commits and uncommitted changes, against the base.
  auto diff = tool("hg", top, {"diff", "--git", "--rev", s.baseRevision});
  if (diff.exitCode != 0) throw UsageError("buildbot try: hg diff failed: " + trimmed(diff.err));
  s.patch = diff.out;
  return s;
}

TrySource svnTrySource(const std::string& dir) {
  TrySource s;
  s.vcs = "svn";
  auto root = tool("svn", dir, {"info", "--non-interactive", "--show-item", "wc-root"});
  if (root.exitCode != 0) throw UsageError("buildbot try: svn info failed: " + trimmed(root.err));
  const std::string top = trimmed(root.out);
  auto rev = tool("svn", top, {"info", "--non-interactive", "--show-item", "revision"});
  auto rel = tool("svn", top, {"info", "--non-interactive", "--show-item", "relative-url"});
  if (rev.exitCode != 0 || rel.exitCode != 0)
    throw UsageError("buildbot try: svn info failed: " + trimmed(rev.err + rel.err));
  s.baseRevision = trimmed(rev.out);
  // ^/trunk -> trunk: the branch path below the repository root.
  std::string branch = trimmed(rel.out);
  if (branch.rfind("^/", 0) == 0) branch.erase(0, 2);
  else if (branch == "^") branch.clear();
  s.branch = branch;
  // Uncommitted changes against BASE, paths relative to the working copy's root.
  auto diff = tool("svn", top, {"diff", "--non-interactive", "--internal-diff"});
  if (diff.exitCode != 0) throw UsageError("buildbot try: svn diff failed: " + trimmed(diff.err));
  s.patch = diff.out;
  s.patchLevel = 0;
  return s;
}

TrySource findTrySource(const std::string& dir) {
  if (git(dir, {"rev-parse", "--show-toplevel"}).exitCode == 0) return gitTrySource(dir);
  if (inside(dir, ".hg")) return hgTrySource(dir);
  if (inside(dir, ".svn")) return svnTrySource(dir);
  throw UsageError("buildbot try: '" + dir + "' is not in a git, Mercurial or Subversion tree; give the patch "
                   "with --diff FILE and --baserev REV");
}

}  // namespace bb::client
