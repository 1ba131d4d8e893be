#include "slave/git_command.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/vcs_args.hpp"
#include "slave/shell_command.hpp"
#include "slave/vcs/source_command.hpp"
#include "slave/workdir.hpp"
#include "common/trim.hpp"

namespace bb {

namespace fs = std::filesystem;

namespace {

}  // namespace

GitCommand::GitCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                       std::int64_t credit, const Json& args)
    : RemoteCommand(ctx, sink, cmdId, credit) {
  repo_ = getString(args, "repo");
  if (repo_.empty()) throw ProtocolError("field 'repo' must not be empty");
  branch_ = optString(args, "branch").value_or("");
  revision_ = optString(args, "revision").value_or("");
  std::string mode = optString(args, "mode").value_or("incremental");
  if (mode != "incremental" && mode != "full")
    throw ProtocolError("field 'mode' must be \"incremental\" or \"full\", not \"" + mode + "\"");
  full_ = mode == "full";
  // Nothing git could read as an option (or a command-running URL).
  vcs::checkRepoUrl("repository URL", repo_);
  vcs::checkArgument("branch name", branch_);
  vcs::checkArgument("revision", revision_);
  workdir_ = optString(args, "workdir").value_or("");
  patch_ = readPatchArg(args);
  setTimeouts(static_cast<int>(optInt(args, "timeout").value_or(0)),
              static_cast<int>(optInt(args, "max_silence").value_or(0)));
}

bool GitCommand::prepareWorkdir(std::string& error) {
  std::error_code ec;
  const fs::path dir(dir_);
  bool haveCheckout = fs::is_directory(dir / ".git", ec);
  if (full_ || !haveCheckout) {
    if (fs::exists(dir, ec)) {
      header(full_ ? "mode full: removing " + dir_
                   : "no git checkout in " + dir_ + ": removing it for a fresh clone");
      fs::remove_all(dir, ec);
      if (ec) {
        error = "cannot remove '" + dir_ + "': " + ec.message();
        return false;
      }
    }
    haveCheckout = false;
  } else if (std::string old = vcs::readStampFile(dir_),
             wanted = vcs::stampText(branch_, repo_);
             old != wanted) {
    // Another branch or repository: a fresh clone, never an update of the
    // wrong tree.
    auto oneLine = [](std::string s) {
      for (auto& c : s) if (c == '\n') c = ' ';
      return trim(s);
    };
    header("branch stamp says '" + (old.empty() ? "(none)" : oneLine(old)) +
           "', this build wants '" + oneLine(wanted) + "': checking out fresh instead of updating");
    fs::remove_all(dir, ec);
    if (ec) {
      error = "cannot remove '" + dir_ + "': " + ec.message();
      return false;
    }
    haveCheckout = false;
  }
  if (!makeDirs(dir_, error)) return false;

  if (!haveCheckout) steps_.push_back({"git", "clone", "--quiet", "--", repo_, "."});
  if (!branch_.empty())
    steps_.push_back({"git", "fetch", "--quiet", "origin",
                      "+refs/heads/" + branch_ + ":refs/remotes/origin/" + branch_});
  else if (haveCheckout)
    steps_.push_back({"git", "fetch", "--quiet", "origin"});
  std::string target = !revision_.empty() ? revision_
                       : !branch_.empty() ? "origin/" + branch_
                                          : "origin/HEAD";
  // A revision that is not there fails with our own line, not git's.
  if (!revision_.empty())
    steps_.push_back({"git", "rev-parse", "--quiet", "--verify", revision_ + "^{commit}"});
  steps_.push_back({"git", "checkout", "--quiet", "--force", "--detach", target});
  // A try build left files of its patch: back to the plain revision.
  if (haveCheckout && fs::exists(dir / ".git" / kPatchedStamp, ec))
    steps_.push_back({"git", "clean", "-ffdq"});
  steps_.push_back({"git", "rev-parse", "HEAD"});
  return true;
}

void GitCommand::begin() {
  std::string error;
  auto dir = resolveWorkdir(ctx_.basedir, workdir_, error);
  if (!dir) return fail(error);
  dir_ = *dir;
  header("git checkout of " + repo_ + (branch_.empty() ? "" : " branch " + branch_) +
         (revision_.empty() ? "" : " revision " + revision_) + " (" +
         (full_ ? "full" : "incremental") + ")");
  header("in dir: " + dir_);
  if (!prepareWorkdir(error)) return fail(error);
  runNextStep();
}

bool GitCommand::queuePatch(std::string& error) {
  header("applying a try patch (" + std::to_string(patch_->body.size()) + " bytes, -p" +
         std::to_string(patch_->level) + ")");
  error = checkPatchInTree(dir_, *patch_);
  if (!error.empty()) return false;
  const fs::path git = fs::path(dir_) / ".git";
  const std::string file = (git / kPatchFile).string();
  if (!writePatchFile(file, *patch_, error)) return false;
  // Written before the patch is: a crash half-way still gets the tree cleaned.
  std::ofstream stamp(git / kPatchedStamp, std::ios::trunc);
  if (!stamp) {
    error = "cannot write " + (git / kPatchedStamp).string();
    return false;
  }
  for (auto& argv : gitApplyCommands(*patch_, file)) steps_.push_back(std::move(argv));
  return true;
}

void GitCommand::runNextStep() {
  const auto& argv = steps_[next_++];
  const bool capture = argv.size() == 3 && argv[1] == "rev-parse" && argv[2] == "HEAD";
  header("running: " + quoteArgv(argv));
  std::string error;
  // Never wait for a password on a terminal nobody watches.
  std::map<std::string, std::string> env{{"GIT_TERMINAL_PROMPT", "0"}};
  if (!runProcess(argv, dir_, env, capture, error)) fail(error);
}

void GitCommand::onProcessFinished(const ExitStatus& status) {
  if (!status.exited() || status.exitCode != 0) {
    const auto& step = steps_[next_ - 1];
    if (status.exited() && step[1] == std::string("rev-parse") && step.size() > 2 &&
        step[2] == std::string("--quiet"))
      header("revision " + revision_ + " not found in " + repo_);
    else if (step[1] == std::string("apply"))
      header("the try patch does not apply to " + gotRevision_ +
             "; git applied none of it (its report is above)");
    else
      header("git step failed: " + status.describe());
    return finish(status);
  }
  if (next_ == 1 && steps_[0][1] == std::string("clone")) {
    // Keep the stamp out of `git status`.
    std::error_code ec;
    fs::create_directories(fs::path(dir_) / ".git" / "info", ec);
    std::ofstream exclude(fs::path(dir_) / ".git" / "info" / "exclude", std::ios::app);
    if (exclude) exclude << "/" << kBranchStamp << "\n";
  }
  const auto& done = steps_[next_ - 1];
  if (done.size() == 3 && done[1] == "rev-parse" && done[2] == "HEAD") {
    gotRevision_ = trim(captured());
    if (patch_) {
      std::string error;
      if (!queuePatch(error)) {
        header("patch refused, nothing written: " + error);
        return fail("patch refused: " + error);
      }
    }
  }
  if (next_ < steps_.size()) return runNextStep();

  const std::string& revision = gotRevision_;
  std::ofstream stamp(fs::path(dir_) / kBranchStamp, std::ios::trunc);
  if (stamp) stamp << vcs::stampText(branch_, repo_);
  if (!stamp) header("warning: cannot write " + (fs::path(dir_) / kBranchStamp).string());
  header("got_revision: " + revision);
  finish(status, Json{{"got_revision", revision}});
}

}  // namespace bb
