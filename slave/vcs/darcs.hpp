#pragma once
// The `darcs` command: brings a work dir to a state of a Darcs repository.
// Darcs has no named branches inside a repository: a branch is another
// repository, so the checkout URL is the base URL + "/" + the branch
// (`default_branch` when the build names none; "" = the base URL itself),
// as for svn.
//  checkout: darcs clone [--to-hash HASH] -- URL .buildbot-clone, moved up
//  update:   darcs pull --all -- URL
//  clean:    darcs revert --all, then the files `darcs whatsnew
//            --look-for-adds` lists (with --boring for method fresh) removed
// A revision is a patch hash; an update in place cannot go back to one, so
// a build that names a revision checks out fresh. got_revision is the hash
// of the newest patch in the tree.
#include "slave/vcs/source_command.hpp"

namespace bb::vcs {

class DarcsCommand : public SourceCommand {
 public:
  // Reads the SourceArgs and default_branch; throws ProtocolError if they
  // are malformed (a revision must be a patch hash: hex digits).
  DarcsCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
               const Json& args);

  // The patch hash from `darcs log --last=1` output ("" if none).
  static std::string hashFromLog(const std::string& out);

 protected:
  std::string vcsName() const override { return "darcs"; }
  std::string metadataDir() const override { return "_darcs"; }
  std::string branchName() const override { return branch_; }
  void planCheckout() override;
  void planUpdate() override;
  void planClean(bool ignored) override;
  void planRevision() override;
  bool updateReachesRevision() const override { return false; }
  std::string parseRevision(const std::string& out) const override { return hashFromLog(out); }

 private:
  std::string url() const { return branchUrl(args_.repo, branch_); }
  std::string branch_;
};

}  // namespace bb::vcs
