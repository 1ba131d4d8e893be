#include "slave/vcs/brz.hpp"

#include "common/vcs_args.hpp"

namespace bb::vcs {

BrzCommand::BrzCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                       std::int64_t credit, const Json& args)
    : SourceCommand(ctx, sink, cmdId, credit, readSourceArgs(args),
                    static_cast<int>(optInt(args, "timeout").value_or(0))) {
  branch_ = args_.branch.empty() ? optString(args, "default_branch").value_or("") : args_.branch;
  checkBranchPath("branch name", branch_);
  revisionSpec(args_.revision);  // throws if malformed
}

std::string BrzCommand::revisionSpec(const std::string& r) {
  if (r.empty()) return "";
  checkArgument("revision", r);
  if (r.find_first_not_of("0123456789.") == std::string::npos) {
    if (r.front() == '.' || r.back() == '.' || r.find("..") != std::string::npos)
      throw ProtocolError("bad revision '" + r + "': a revno is like 5 or 1.2.3");
    return r;
  }
  if (r.rfind("revid:", 0) == 0 || r.rfind("tag:", 0) == 0) {
    if (r.find(':') == r.size() - 1) throw ProtocolError("bad revision '" + r + "': nothing after ':'");
    return r;
  }
  if (r.find(':') != std::string::npos || r.find(' ') != std::string::npos)
    throw ProtocolError("bad revision '" + r +
                        "': a Breezy revision is a revno, revid:ID, tag:NAME or a revision id");
  return "revid:" + r;
}

std::vector<std::string> BrzCommand::revisionArgs() const {
  if (args_.revision.empty()) return {};
  return {"--revision", revisionSpec(args_.revision)};
}

std::map<std::string, std::string> BrzCommand::stepEnv() const {
  // No progress bars; messages in a known language.
  return {{"BRZ_PROGRESS_BAR", "none"}, {"LC_ALL", "C.UTF-8"}};
}

void BrzCommand::planCheckout() {
  std::vector<std::string> argv{"brz", "branch", "--quiet", "--use-existing-dir"};
  for (auto& a : revisionArgs()) argv.push_back(a);
  argv.insert(argv.end(), {"--", branchUrl(args_.repo, branch_), "."});
  add(std::move(argv));
}

void BrzCommand::planUpdate() {
  std::vector<std::string> argv{"brz", "pull", "--quiet", "--overwrite"};
  for (auto& a : revisionArgs()) argv.push_back(a);
  argv.insert(argv.end(), {"--", branchUrl(args_.repo, branch_)});
  add(std::move(argv));
}

void BrzCommand::planClean(bool ignored) {
  add({"brz", "revert", "--quiet", "--no-backup"});
  std::vector<std::string> argv{"brz", "clean-tree", "--quiet", "--force", "--unknown", "--detritus"};
  if (ignored) argv.push_back("--ignored");
  add(std::move(argv));
}

void BrzCommand::planRevision() {
  add({"brz", "version-info", "--custom", "--template={revision_id}\\n"});
}

}  // namespace bb::vcs
