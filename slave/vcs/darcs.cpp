#include "slave/vcs/darcs.hpp"

#include <sstream>

#include "common/vcs_args.hpp"

namespace bb::vcs {

namespace {
constexpr const char* kCloneDir = ".buildbot-clone";
}

DarcsCommand::DarcsCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                           std::int64_t credit, const Json& args)
    : SourceCommand(ctx, sink, cmdId, credit, readSourceArgs(args),
                    static_cast<int>(optInt(args, "timeout").value_or(0))) {
  branch_ = args_.branch.empty() ? optString(args, "default_branch").value_or("") : args_.branch;
  checkBranchPath("branch name", branch_);
  const std::string& r = args_.revision;
  if (!r.empty() && (r.size() < 5 || r.size() > 64 || r.find_first_not_of("0123456789abcdef") != std::string::npos))
    throw ProtocolError("bad revision '" + r + "': a Darcs revision is a patch hash (hex digits)");
}

std::string DarcsCommand::hashFromLog(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("patch ", 0) == 0) return line.substr(6);
  return "";
}

void DarcsCommand::planCheckout() {
  // darcs clone only makes a new directory: clone below, then move up.
  std::vector<std::string> argv{"darcs", "clone", "--quiet"};
  if (!args_.revision.empty()) argv.insert(argv.end(), {"--to-hash", args_.revision});
  argv.insert(argv.end(), {"--", url(), kCloneDir});
  add(std::move(argv));
  addInternal([this](const std::string&) { return moveUpFrom(kCloneDir); });
}

void DarcsCommand::planUpdate() { add({"darcs", "pull", "--all", "--quiet", "--", url()}); }

void DarcsCommand::planClean(bool ignored) {
  add({"darcs", "revert", "--all", "--quiet"});
  std::vector<std::string> argv{"darcs", "whatsnew", "--look-for-adds", "--summary"};
  if (ignored) argv.push_back("--boring");
  // whatsnew exits 1 when there is nothing to show.
  add(std::move(argv),
      [this](const std::string& out) {
        std::vector<std::string> paths;
        std::istringstream in(out);
        std::string line;
        while (std::getline(in, line))
          if (line.rfind("a ./", 0) == 0) paths.push_back(line.substr(4));
        return removeInTree(paths, {metadataDir()});
      },
      1);
}

void DarcsCommand::planRevision() { add({"darcs", "log", "--last=1"}); }

}  // namespace bb::vcs
