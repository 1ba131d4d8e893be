#pragma once
// The `svn` command: brings a work dir to a revision of a Subversion
// branch. The checkout URL is the repository base URL + "/" + the branch
// (`default_branch` when the build names none; "" means the base URL
// itself), e.g. file:///srv/svn/app + branches/foo.
//  checkout: svn checkout --revision REV -- URL@ .
//  update:   svn update --revision REV
//  clean:    svn revert --recursive . ; svn cleanup --remove-unversioned
//            (and --remove-ignored for method fresh)
// got_revision is the working copy's last-changed revision.
#include "slave/vcs/source_command.hpp"

namespace bb::vcs {

class SvnCommand : public SourceCommand {
 public:
  // Reads the SourceArgs and default_branch; throws ProtocolError if they
  // are malformed (a revision must be a number, rNUMBER or HEAD).
  SvnCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
             const Json& args);

  // The checkout URL of `branch` under `base` (no doubled slashes).
  static std::string checkoutUrl(const std::string& base, const std::string& branch);

 protected:
  std::string vcsName() const override { return "svn"; }
  std::string metadataDir() const override { return ".svn"; }
  std::string branchName() const override { return branch_; }
  void planCheckout() override;
  void planUpdate() override;
  void planClean(bool ignored) override;
  void planRevision() override;
  std::map<std::string, std::string> stepEnv() const override;

 private:
  std::string branch_;  // the build's branch, or default_branch
  std::string revision_ = "HEAD";
};

}  // namespace bb::vcs
