#include "slave/vcs/source_command.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "slave/shell_command.hpp"
#include "common/vcs_args.hpp"
#include "slave/workdir.hpp"
#include "common/trim.hpp"

namespace bb::vcs {

namespace fs = std::filesystem;

namespace {

}  // namespace

SourceArgs readSourceArgs(const Json& args) {
  SourceArgs a;
  a.repo = getString(args, "repo");
  if (a.repo.empty()) throw ProtocolError("field 'repo' must not be empty");
  checkRepoUrl("repository URL", a.repo);
  a.branch = optString(args, "branch").value_or("");
  checkArgument("branch name", a.branch);
  a.revision = optString(args, "revision").value_or("");
  checkArgument("revision", a.revision);
  const std::string mode = optString(args, "mode").value_or("incremental");
  if (mode != "incremental" && mode != "full")
    throw ProtocolError("field 'mode' must be \"incremental\" or \"full\", not \"" + mode + "\"");
  a.full = mode == "full";
  a.method = optString(args, "method").value_or("clobber");
  if (a.method != "clobber" && a.method != "fresh" && a.method != "clean" && a.method != "copy")
    throw ProtocolError("field 'method' must be clobber, fresh, clean or copy, not \"" +
                        a.method + "\"");
  a.workdir = optString(args, "workdir").value_or("");
  a.patch = readPatchArg(args);
  return a;
}

std::string branchUrl(const std::string& base, const std::string& branch) {
  std::string url = base;
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  if (!branch.empty()) url += "/" + branch;
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

std::string stampText(const std::string& branch, const std::string& repo) {
  return branch + "\n" + repo + "\n";
}

std::string readStampFile(const std::string& dir, const std::string& name) {
  std::ifstream in(fs::path(dir) / name);
  if (!in) return "";
  std::string branch, repo;
  std::getline(in, branch);
  std::getline(in, repo);
  return stampText(branch, repo);
}

SourceCommand::SourceCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                             std::int64_t credit, SourceArgs args, int timeoutSeconds)
    : RemoteCommand(ctx, sink, cmdId, credit), args_(std::move(args)) {
  setTimeouts(timeoutSeconds, 0);
}

bool SourceCommand::removeDir(const std::string& dir, std::string& error) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) error = "cannot remove '" + dir + "': " + ec.message();
  return !ec;
}

bool SourceCommand::prepare(std::string& error) {
  std::error_code ec;
  const bool copy = args_.full && args_.method == "copy";
  treeDir_ = copy ? workDir_ + ".source" : workDir_;
  const std::string wanted = stampText(branchName(), stampRepo());
  const bool haveTree = fs::is_directory(fs::path(treeDir_) / metadataDir(), ec);
  bool fresh = true;
  if (args_.full && args_.method == "clobber") {
    if (fs::exists(treeDir_, ec)) header("mode full, method clobber: removing " + treeDir_);
  } else if (!haveTree) {
    if (fs::exists(treeDir_, ec))
      header("no " + vcsName() + " checkout in " + treeDir_ + ": removing it for a fresh checkout");
  } else if (fs::exists(fs::path(treeDir_) / metadataDir() / kPatchedStamp, ec)) {
    header("a try build left its patch in " + treeDir_ + ": checking out fresh");
  } else if (std::string old = readStampFile(treeDir_, stampName()); old != wanted) {
    auto oneLine = [](std::string s) {
      for (auto& c : s) if (c == '\n') c = ' ';
      return trim(s);
    };
    header("branch stamp says '" + (old.empty() ? "(none)" : oneLine(old)) + "', this build wants '" +
           oneLine(wanted) + "': checking out fresh instead of updating");
  } else if (!args_.revision.empty() && !updateReachesRevision()) {
    header(vcsName() + " cannot update in place to a given revision: checking out revision " +
           args_.revision + " fresh");
  } else {
    fresh = false;
  }
  if (fresh) {
    if (!removeDir(treeDir_, error)) return false;
    if (!makeDirs(treeDir_, error)) return false;
    planCheckout();
    checkoutSteps_ = steps_.size();
  } else {
    header("updating the " + vcsName() + " checkout in " + treeDir_);
    if (args_.full && args_.method == "fresh") planClean(true);
    if (args_.full && args_.method == "clean") planClean(false);
    planUpdate();
  }
  planRevision();
  return true;
}

void SourceCommand::begin() {
  std::string error;
  auto dir = resolveWorkdir(ctx_.basedir, args_.workdir, error);
  if (!dir) return fail(error);
  workDir_ = *dir;
  if (args_.full && args_.method == "copy" &&
      fs::path(workDir_) == fs::absolute(fs::path(ctx_.basedir)).lexically_normal())
    return fail("method copy needs a workdir below the slave basedir (WORKDIR.source is its sibling)");
  header(vcsName() + " checkout of " + args_.repo +
         (branchName().empty() ? "" : " branch " + branchName()) +
         (args_.revision.empty() ? "" : " revision " + args_.revision) + " (" +
         (args_.full ? "full, method " + args_.method : std::string("incremental")) + ")");
  header("in dir: " + workDir_);
  if (!prepare(error)) return fail(error);
  runNextStep();
}

void SourceCommand::runNextStep() {
  const Step& step = steps_[next_++];
  if (step.argv.empty()) {  // an internal step
    const std::string error = step.then ? step.then("") : "";
    if (!error.empty()) {
      header(vcsName() + " step failed: " + error);
      return fail(error);
    }
    ExitStatus ok;
    ok.exitCode = 0;
    return stepSucceeded(ok);
  }
  const bool last = next_ == steps_.size() && !applyingPatch_;
  header("running: " + quoteArgv(step.argv));
  std::string error;
  if (!runProcess(step.argv, applyingPatch_ ? workDir_ : treeDir_, stepEnv(), last || bool(step.then),
                  error))
    fail(error);
}

void SourceCommand::onProcessFinished(const ExitStatus& status) {
  const Step& step = steps_[next_ - 1];
  if (!status.exited() || status.exitCode < 0 || status.exitCode > step.okExit) {
    if (applyingPatch_)
      header("the try patch does not apply to " + revision_ +
             "; nothing of it was written (the rejected hunks are above)");
    else
      header(vcsName() + " step failed: " + status.describe());
    return finish(status);
  }
  if (step.then) {
    header(vcsName() + " step done (" + status.describe() + ")");
    const std::string error = step.then(captured());
    if (!error.empty()) {
      header(vcsName() + " step failed: " + error);
      return fail(error);
    }
  }
  stepSucceeded(status);
}

void SourceCommand::stepSucceeded(const ExitStatus& status) {
  if (checkoutSteps_ > 0 && next_ == checkoutSteps_) afterCheckout();
  if (next_ < steps_.size()) return runNextStep();
  if (applyingPatch_) return finish(status, Json{{"got_revision", revision_}});
  complete(status);
}

std::string SourceCommand::parseRevision(const std::string& out) const { return trim(out); }

std::string SourceCommand::removeInTree(const std::vector<std::string>& paths,
                                        const std::vector<std::string>& keep) {
  for (const auto& p : paths) {
    const fs::path rel = fs::path(p).lexically_normal();
    if (p.empty() || rel.is_absolute() || rel.empty() || rel == ".") continue;
    bool skip = false;
    for (const auto& part : rel) {
      if (part == "..") skip = true;
      for (const auto& k : keep) if (part == k) skip = true;
    }
    if (skip) continue;
    std::error_code ec;
    fs::remove_all(fs::path(treeDir_) / rel, ec);
    if (ec) return "cannot remove '" + rel.string() + "': " + ec.message();
    header("removed " + rel.string());
  }
  return "";
}

std::string SourceCommand::moveUpFrom(const std::string& sub) {
  const fs::path from = fs::path(treeDir_) / sub;
  std::error_code ec;
  for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    fs::rename(it->path(), fs::path(treeDir_) / it->path().filename(), ec);
    if (ec) return "cannot move '" + it->path().string() + "' up: " + ec.message();
  }
  if (ec) return "cannot read '" + from.string() + "': " + ec.message();
  fs::remove(from, ec);
  if (ec) return "cannot remove '" + from.string() + "': " + ec.message();
  return "";
}

void SourceCommand::complete(const ExitStatus& status) {
  const std::string revision = parseRevision(captured());
  {
    std::ofstream stamp(fs::path(treeDir_) / stampName(), std::ios::trunc);
    if (stamp) stamp << stampText(branchName(), stampRepo());
    if (!stamp) header("warning: cannot write " + (fs::path(treeDir_) / stampName()).string());
  }
  if (treeDir_ != workDir_) {
    header("method copy: copying " + treeDir_ + " to " + workDir_);
    std::string error;
    if (!removeDir(workDir_, error)) return fail(error);
    std::error_code ec;
    fs::copy(treeDir_, workDir_, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return fail("cannot copy '" + treeDir_ + "' to '" + workDir_ + "': " + ec.message());
  }
  if (revision.empty()) {
    header(vcsName() + " printed no revision");
    return fail(vcsName() + " printed no revision for the checkout");
  }
  header("got_revision: " + revision);
  revision_ = revision;
  if (args_.patch) {
    std::string error;
    if (!queuePatch(error)) {
      header("patch refused, nothing written: " + error);
      return fail("patch refused: " + error);
    }
    applyingPatch_ = true;
    return runNextStep();
  }
  finish(status, Json{{"got_revision", revision}});
}

bool SourceCommand::queuePatch(std::string& error) {
  const TryPatch& patch = *args_.patch;
  header("applying a try patch (" + std::to_string(patch.body.size()) + " bytes, -p" + std::to_string(patch.level) +
         ") in " + workDir_);
  error = checkPatchInTree(workDir_, patch);
  if (!error.empty()) return false;
  const fs::path meta = fs::path(workDir_) / metadataDir();
  if (!writePatchFile((meta / kPatchFile).string(), patch, error)) return false;
  if (workDir_ == treeDir_) {
    // Written before the patch is: a crash half-way still gets a fresh tree.
    std::ofstream stamp(meta / kPatchedStamp, std::ios::trunc);
    if (!stamp) {
      error = "cannot write " + (meta / kPatchedStamp).string();
      return false;
    }
  }
  steps_.clear();
  next_ = 0;
  for (auto& argv : patchCommands(patch, (meta / kPatchFile).string())) add(std::move(argv));
  return true;
}

}  // namespace bb::vcs
