#pragma once
// The `cvs` command: brings a work dir to a module of a CVS repository.
// `repo` is the CVSROOT (a path, :pserver:..., :ext:...), `module` the
// module; the branch is a tag given to `-r` (empty or HEAD: the trunk),
// the revision a date given to `-D` (empty: the newest).
//  checkout: cvs -f -q -d ROOT checkout -P -d . [-r TAG] [-D DATE] -- MODULE
//  update:   cvs -f -q update -d -P (-A | -r TAG) [-D DATE]
//  clean:    the unknown, modified and conflicting files that
//            `cvs -n update` lists (with `-I !` for method fresh, so
//            ignored ones too) are removed, and the update restores them
// CVS has no tree-wide revision: got_revision is the date given, else
// the time (UTC) the step started as 2026-12-01T10:00:00Z (no spaces, so
// it passes as a change's revision), which the step gives -D as
// "2026-12-01 10:00:00 +0000"; other dates (`@UNIXTIME`, ...) go as they are.
#include "slave/vcs/source_command.hpp"

namespace bb::vcs {

class CvsCommand : public SourceCommand {
 public:
  // Reads the SourceArgs and module; throws ProtocolError if they are
  // malformed (a tag is a letter then letters, digits, '-', '_'; a date
  // has letters, digits, spaces and :+-/.@ only).
  CvsCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
             const Json& args);

  // Refuses a CVSROOT whose host would be read as an ssh option
  // (`:ext:-oProxyCommand=...:/path`).
  static void checkCvsRoot(const std::string& root);
  // A revision as -D reads it (an ISO 8601 UTC date spelled out).
  static std::string dateForCvs(const std::string& date);

 protected:
  std::string vcsName() const override { return "cvs"; }
  std::string metadataDir() const override { return "CVS"; }
  std::string branchName() const override { return tag_.empty() ? "HEAD" : tag_; }
  std::string stampRepo() const override { return args_.repo + " " + module_; }
  void planCheckout() override;
  void planUpdate() override;
  void planClean(bool ignored) override;
  void planRevision() override {}
  std::string parseRevision(const std::string&) const override { return revision_; }

 private:
  std::vector<std::string> cvs(std::vector<std::string> args) const;
  std::string module_, tag_;  // tag_: "" for the trunk
  std::string revision_;      // the date: given, or when the step started
};

}  // namespace bb::vcs
