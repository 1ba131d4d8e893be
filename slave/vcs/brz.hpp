#pragma once
// The `brz` command: brings a work dir to a revision of a Bazaar/Breezy
// branch. A Breezy branch is a location, so the checkout URL is the base
// URL + "/" + the branch (`default_branch` when the build names none; ""
// = the base URL itself), e.g. a shared repository and trunk.
//  checkout: brz branch --use-existing-dir [-r REV] -- URL .
//  update:   brz pull --overwrite [-r REV] -- URL
//  clean:    brz revert --no-backup; brz clean-tree --unknown --detritus
//            (and --ignored for method fresh)
// A revision is a revno (`5`, `1.2.3`), `revid:ID`, `tag:NAME`, or a bare
// revision id (as got_revision gives it); got_revision is the revision id.
#include "slave/vcs/source_command.hpp"

namespace bb::vcs {

class BrzCommand : public SourceCommand {
 public:
  // Reads the SourceArgs and default_branch; throws ProtocolError if they
  // are malformed.
  BrzCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
             const Json& args);

  // The revision spec for `-r` ("" = the newest): a revno or a revid:/tag:
  // spec as given, anything else as `revid:VALUE`; no other spec (one
  // could name another branch) gets through.
  static std::string revisionSpec(const std::string& revision);

 protected:
  std::string vcsName() const override { return "brz"; }
  std::string metadataDir() const override { return ".bzr"; }
  std::string branchName() const override { return branch_; }
  void planCheckout() override;
  void planUpdate() override;
  void planClean(bool ignored) override;
  void planRevision() override;
  std::map<std::string, std::string> stepEnv() const override;

 private:
  std::vector<std::string> revisionArgs() const;
  std::string branch_;
};

}  // namespace bb::vcs
