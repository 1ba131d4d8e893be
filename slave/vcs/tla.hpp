#pragma once
// The `tla` command: brings a work dir to a revision of a GNU Arch
// version. `repo` is the archive's location, `archive` its name
// (user@host--name); the branch is the version, category--branch--version
// (`default_branch` when the build names none), the revision a patch
// level (patch-N, base-0, version-N, versionfix-N).
//  checkout: tla register-archive --force ARCHIVE LOCATION, then
//            tla get ARCHIVE/VERSION[--LEVEL] .buildbot-get, moved up
//  update:   tla register-archive ..., then tla update
//  clean:    what `tla inventory` calls junk, backup, unrecognized or
//            untagged is removed (precious files too for method fresh),
//            then tla undo --no-output reverts local edits
// tla refuses to update a tree holding an untracked file that looks like
// source (its lint): the build fails with tla's list of them. So the
// stamp is `+buildbot-branch`, a name tla's default rules call precious.
// tla takes no `--`, so every name is checked against Arch's own syntax
// before it is used. An update cannot go back, so a build that names a
// revision checks out fresh. got_revision is the tree's patch level.
#include "slave/vcs/source_command.hpp"

namespace bb::vcs {

class TlaCommand : public SourceCommand {
 public:
  // Reads the SourceArgs, archive and default_branch; throws ProtocolError
  // if one is malformed.
  TlaCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
             const Json& args);

  // Arch's syntax: an archive name (user@host--name), a version
  // (category[--branch]--1.0) and a patch level.
  static bool validArchive(const std::string& s);
  static bool validVersion(const std::string& s);
  static bool validLevel(const std::string& s);
  // The patch level from `tla logs --full --reverse` output ("" if none).
  static std::string levelFromLogs(const std::string& out);

 protected:
  std::string vcsName() const override { return "tla"; }
  std::string metadataDir() const override { return "{arch}"; }
  std::string branchName() const override { return archive_ + "/" + version_; }
  void planCheckout() override;
  void planUpdate() override;
  void planClean(bool ignored) override;
  void planRevision() override;
  std::string stampName() const override { return "+buildbot-branch"; }
  bool updateReachesRevision() const override { return false; }
  std::string parseRevision(const std::string& out) const override { return levelFromLogs(out); }
  std::map<std::string, std::string> stepEnv() const override { return {{"LC_ALL", "C"}}; }

 private:
  std::string archive_, version_;
};

}  // namespace bb::vcs
