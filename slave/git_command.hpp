#pragma once
// The `git` command: brings a workdir to a revision of a repository.
//  full: remove the workdir, then clone.
//  incremental: reuse the checkout if workdir/.git exists, else clone.
// Then fetch the branch, check out REVISION (or the branch head) detached,
// and report `git rev-parse HEAD` as props.got_revision. A
// `.buildbot-branch` stamp in the workdir remembers the branch and the
// repository: when a build wants another, the checkout starts over with a
// fresh clone (and says so), as the other source commands do
// (slave/vcs/source_command.hpp).
// With a `patch` argument (a try job), the patch is then checked
// (slave/patch_apply.hpp) and applied with `git apply`; a tree left
// patched is cleaned (`git clean`) by the next checkout in it.
#include <optional>

#include "slave/command.hpp"
#include "slave/patch_apply.hpp"

namespace bb {

class GitCommand : public RemoteCommand {
 public:
  static constexpr const char* kBranchStamp = ".buildbot-branch";
  // In .git: the tree holds an applied try patch (and the patch file).
  static constexpr const char* kPatchedStamp = "buildbot-patched";
  static constexpr const char* kPatchFile = "buildbot-try.patch";

  // Reads args {repo, branch, revision, mode, workdir, timeout, patch?}; throws
  // ProtocolError if they are malformed.
  GitCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
             const Json& args);

 protected:
  void begin() override;
  void onProcessFinished(const ExitStatus& status) override;

 private:
  void runNextStep();
  bool prepareWorkdir(std::string& error);
  // After the checkout: refuses an unsafe patch, else queues `git apply`.
  bool queuePatch(std::string& error);

  std::string repo_;
  std::string branch_;
  std::string revision_;
  bool full_ = false;
  std::string workdir_;
  std::string dir_;  // absolute
  std::vector<std::vector<std::string>> steps_;
  std::size_t next_ = 0;
  std::optional<TryPatch> patch_;
  std::string gotRevision_;
};

}  // namespace bb
