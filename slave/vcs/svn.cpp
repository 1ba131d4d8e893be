#include "slave/vcs/svn.hpp"

#include "common/vcs_args.hpp"

namespace bb::vcs {

SvnCommand::SvnCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                       std::int64_t credit, const Json& args)
    : SourceCommand(ctx, sink, cmdId, credit, readSourceArgs(args),
                    static_cast<int>(optInt(args, "timeout").value_or(0))) {
  branch_ = args_.branch.empty() ? optString(args, "default_branch").value_or("") : args_.branch;
  checkBranchPath("branch name", branch_);
  if (!args_.revision.empty()) {
    std::string r = args_.revision;
    if (r[0] == 'r') r.erase(0, 1);
    bool digits = !r.empty() && r.find_first_not_of("0123456789") == std::string::npos;
    if (!digits && r != "HEAD")
      throw ProtocolError("bad revision '" + args_.revision +
                          "': a Subversion revision is a number, rNUMBER or HEAD");
    revision_ = r;
  }
}

std::string SvnCommand::checkoutUrl(const std::string& base, const std::string& branch) {
  return branchUrl(base, branch);
}

std::map<std::string, std::string> SvnCommand::stepEnv() const { return {{"LC_ALL", "C"}}; }

void SvnCommand::planCheckout() {
  // The trailing '@' ends peg-revision parsing, so an '@' in the branch
  // stays part of the path.
  add({"svn", "checkout", "--non-interactive", "--revision", revision_, "--",
       checkoutUrl(args_.repo, branch_) + "@", "."});
}

void SvnCommand::planUpdate() {
  add({"svn", "update", "--non-interactive", "--revision", revision_});
}

void SvnCommand::planClean(bool ignored) {
  add({"svn", "revert", "--non-interactive", "--recursive", "."});
  std::vector<std::string> argv{"svn", "cleanup", "--non-interactive", "--remove-unversioned"};
  if (ignored) argv.push_back("--remove-ignored");
  argv.push_back(".");
  add(std::move(argv));
}

void SvnCommand::planRevision() {
  add({"svn", "info", "--non-interactive", "--show-item", "last-changed-revision", "."});
}

}  // namespace bb::vcs
