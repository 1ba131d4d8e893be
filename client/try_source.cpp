#include "client/try_source.hpp"

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

}  // namespace bb::client
