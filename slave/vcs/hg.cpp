#include "slave/vcs/hg.hpp"

#include <filesystem>
#include <fstream>

namespace bb::vcs {

HgCommand::HgCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                     std::int64_t credit, const Json& args)
    : SourceCommand(ctx, sink, cmdId, credit, readSourceArgs(args),
                    static_cast<int>(optInt(args, "timeout").value_or(0))) {}

std::string HgCommand::branchHeadRevset(const std::string& branch) {
  // A revset string literal: backslash and quote escaped, so no branch
  // name can change the expression.
  std::string quoted;
  for (char c : branch) {
    if (c == '\\' || c == '"') quoted += '\\';
    quoted += c;
  }
  return "max(branch(\"literal:" + quoted + "\"))";
}

std::string HgCommand::branchName() const {
  return args_.branch.empty() ? "default" : args_.branch;
}

std::string HgCommand::target() const {
  return args_.revision.empty() ? branchHeadRevset(branchName()) : args_.revision;
}

std::map<std::string, std::string> HgCommand::stepEnv() const {
  // Plain output, no pager, no prompt for a password nobody will type.
  return {{"HGPLAIN", "1"}, {"HGNONINTERACTIVE", "1"}};
}

void HgCommand::planCheckout() {
  add({"hg", "clone", "--noninteractive", "--noupdate", "--", args_.repo, "."});
  add({"hg", "update", "--noninteractive", "--clean", "--rev", target()});
}

void HgCommand::planUpdate() {
  add({"hg", "pull", "--noninteractive", "--", args_.repo});
  add({"hg", "update", "--noninteractive", "--clean", "--rev", target()});
}

void HgCommand::planClean(bool ignored) {
  std::vector<std::string> argv{"hg", "--config", "extensions.purge=", "purge", "--noninteractive"};
  if (ignored) argv.push_back("--all");
  add(std::move(argv));
}

void HgCommand::planRevision() { add({"hg", "log", "--rev", ".", "--template", "{node}\\n"}); }

void HgCommand::afterCheckout() {
  // Keep the stamp out of `hg status`: a per-checkout ignore file.
  namespace fs = std::filesystem;
  const fs::path ignore = fs::path(treeDir_) / ".hg" / "buildbot-ignore";
  std::ofstream(ignore) << "syntax: glob\n" << kBranchStamp << "\n";
  std::ofstream(fs::path(treeDir_) / ".hg" / "hgrc", std::ios::app)
      << "\n[ui]\nignore.buildbot = " << ignore.string() << "\n";
}

}  // namespace bb::vcs
