#pragma once
// The common part of every source command (hg, svn, ...): its arguments,
// the choice between updating the work tree and checking out fresh, the
// branch stamp, the `full` methods, running the VCS client step by step
// (argv, never a shell) and reporting got_revision.
//
// The choice, in order:
//  - mode full, method clobber: remove the work dir, check out fresh;
//  - no checkout there (no metadata dir): check out fresh;
//  - the branch stamp (`.buildbot-branch`: the branch, then the repository
//    URL) names another branch or repository: check out fresh, saying so
//    in the log, so a build never updates the wrong tree;
//  - else update; mode full with method fresh first removes every file the
//    VCS does not track (ignored ones too) and reverts local edits, method
//    clean the same but keeps ignored files.
// Method copy keeps the checkout in WORKDIR.source (updated as above, in
// incremental fashion) and copies it to a fresh WORKDIR for each build.
//
// A try build's patch (RunCommand's `patch`) is applied in WORKDIR after
// the checkout (and the copy): refused before anything is written when a
// path is absolute, has `..` or goes through a symbolic link; then `patch
// -pN`, a dry run first, so a hunk that does not apply fails the step with
// the rejected hunks in the log and nothing written. A tree left patched
// (the stamp kPatchedStamp in its metadata dir) is checked out fresh by the
// next build.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slave/command.hpp"
#include "slave/patch_apply.hpp"

namespace bb::vcs {

// The stamp file in the work dir.
inline constexpr const char* kBranchStamp = ".buildbot-branch";

// What a source command was asked for (RunCommand args), checked.
struct SourceArgs {
  std::string repo;      // URL or slave path (svn: the base URL)
  std::string branch;    // "" = the repository's default
  std::string revision;  // "" = the newest
  bool full = false;     // mode full (else incremental)
  std::string method = "clobber";  // with full: clobber | fresh | clean | copy
  std::string workdir;
  std::optional<TryPatch> patch;   // a try build's patch, applied after the checkout
};

// Reads {repo, branch, revision, mode, method, workdir, timeout}; throws
// ProtocolError for a malformed or unsafe value (common/vcs_args.hpp).
SourceArgs readSourceArgs(const Json& args);

// The URL of `branch` under `base` (no doubled slashes; "" = base itself):
// svn, darcs and brz map a branch to a path under the repository URL.
std::string branchUrl(const std::string& base, const std::string& branch);

// The stamp's text for a branch and repository, and what a work dir's
// stamp holds ("" when none).
std::string stampText(const std::string& branch, const std::string& repo);
std::string readStampFile(const std::string& dir, const std::string& name = kBranchStamp);

class SourceCommand : public RemoteCommand {
 protected:
  SourceCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
                SourceArgs args, int timeoutSeconds);

  // The client's name for the log ("hg") and its metadata dir (".hg").
  virtual std::string vcsName() const = 0;
  virtual std::string metadataDir() const = 0;
  // The branch as the log and the stamp name it ("" -> the default's name).
  virtual std::string branchName() const { return args_.branch; }
  // The stamp file's name in the tree (tla: one its naming rules allow).
  virtual std::string stampName() const { return kBranchStamp; }
  // What the stamp records as the repository (cvs: CVSROOT and module).
  virtual std::string stampRepo() const { return args_.repo; }
  // Plan steps (add()) into the tree dir: a fresh checkout into the empty
  // dir; an update of the tree there; a cleanup (ignored files too when
  // `ignored`); and last, one step that prints the revision on stdout.
  virtual void planCheckout() = 0;
  virtual void planUpdate() = 0;
  virtual void planClean(bool ignored) = 0;
  virtual void planRevision() = 0;
  // Extra environment for every step.
  virtual std::map<std::string, std::string> stepEnv() const { return {}; }
  // Whether an update in place can reach any revision; when not (darcs,
  // tla), a build that names a revision checks out fresh, saying so.
  virtual bool updateReachesRevision() const { return true; }
  // got_revision from the planRevision() step's stdout (default: trimmed).
  virtual std::string parseRevision(const std::string& out) const;
  // Called after the fresh checkout step succeeded (e.g. to hide the stamp
  // from the VCS's status).
  virtual void afterCheckout() {}

  static constexpr const char* kPatchedStamp = "buildbot-patched";
  static constexpr const char* kPatchFile = "buildbot-try.patch";

  // What a step's `then` is given: its stdout; it returns "" or an error
  // that fails the command.
  using StepThen = std::function<std::string(const std::string& out)>;
  // Queues one step; a step with `then` has its stdout kept and passed to
  // it, and exit codes up to `okExit` count as success.
  void add(std::vector<std::string> argv, StepThen then = {}, int okExit = 0) {
    steps_.push_back({std::move(argv), std::move(then), okExit});
  }
  // Removes each path (relative to treeDir_; one that is absolute, has a
  // `..` segment or is inside `keep` is skipped); "" or the first error.
  std::string removeInTree(const std::vector<std::string>& paths,
                           const std::vector<std::string>& keep);
  // Moves everything in treeDir_/SUB up into treeDir_ and removes SUB
  // (for tools that only check out into a new directory).
  std::string moveUpFrom(const std::string& sub);
  // A step that runs no process: `then` is called with "".
  void addInternal(StepThen then) { add({}, std::move(then)); }

  void begin() override;
  void onProcessFinished(const ExitStatus& status) override;

  SourceArgs args_;
  std::string treeDir_;  // absolute: where the checkout lives

 private:
  bool prepare(std::string& error);
  // Checks the patch in WORKDIR, writes it and the stamp, queues `patch`.
  bool queuePatch(std::string& error);
  bool removeDir(const std::string& dir, std::string& error);
  void runNextStep();
  void stepSucceeded(const ExitStatus& status);
  void complete(const ExitStatus& status);

  std::string workDir_;  // absolute: where the build runs
  struct Step {
    std::vector<std::string> argv;
    StepThen then;
    int okExit = 0;
  };
  std::vector<Step> steps_;
  std::size_t next_ = 0;
  std::size_t checkoutSteps_ = 0;  // steps of a fresh checkout, run before afterCheckout()
  bool applyingPatch_ = false;     // the steps left are the patch's, in workDir_
  std::string revision_;           // got_revision, once the checkout is done
};

}  // namespace bb::vcs
