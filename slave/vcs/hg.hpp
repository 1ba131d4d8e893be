#pragma once
// The `hg` command: brings a work dir to a changeset of a Mercurial
// repository (SourceCommand decides between update and fresh checkout).
//  checkout: hg clone --noupdate -- URL .  then  hg update --clean
//  update:   hg pull -- URL                then  hg update --clean
//  clean:    hg purge (--all for method fresh), via the purge extension
// The target is the revision when one is given, else the newest changeset
// of the branch ("default" when none). got_revision is the full node id.
#include "slave/vcs/source_command.hpp"

namespace bb::vcs {

class HgCommand : public SourceCommand {
 public:
  // Reads the SourceArgs; throws ProtocolError if they are malformed.
  HgCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
            const Json& args);

  // The revset for the newest changeset of `branch`, quoted for hg
  // (`max(branch("literal:NAME"))`).
  static std::string branchHeadRevset(const std::string& branch);

 protected:
  std::string vcsName() const override { return "hg"; }
  std::string metadataDir() const override { return ".hg"; }
  std::string branchName() const override;
  void planCheckout() override;
  void planUpdate() override;
  void planClean(bool ignored) override;
  void planRevision() override;
  std::map<std::string, std::string> stepEnv() const override;
  void afterCheckout() override;

 private:
  std::string target() const;
};

}  // namespace bb::vcs
