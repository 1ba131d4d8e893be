#include "slave/vcs/tla.hpp"

#include <regex>
#include <sstream>

#include "common/vcs_args.hpp"

namespace bb::vcs {

namespace {

constexpr const char* kGetDir = ",,buildbot-get";  // ",," : junk to tla's inventory

const std::regex& nameRe() {
  // category--branch--version, or category--version (tla's own syntax).
  static const std::regex re("[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*(--[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*)?"
                             "--[0-9]+(\\.[0-9]+)*");
  return re;
}

}  // namespace

bool TlaCommand::validArchive(const std::string& s) {
  static const std::regex re("[A-Za-z0-9_.+][A-Za-z0-9_.+@-]*--[A-Za-z0-9_.+-]+");
  return std::regex_match(s, re) && s.find('/') == std::string::npos;
}

bool TlaCommand::validVersion(const std::string& s) { return std::regex_match(s, nameRe()); }

bool TlaCommand::validLevel(const std::string& s) {
  static const std::regex re("base-0|patch-[0-9]+|version-[0-9]+|versionfix-[0-9]+");
  return std::regex_match(s, re);
}

std::string TlaCommand::levelFromLogs(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  if (!std::getline(in, line)) return "";
  const auto dashes = line.rfind("--");
  if (dashes == std::string::npos) return "";
  const std::string level = line.substr(dashes + 2);
  return validLevel(level) ? level : "";
}

TlaCommand::TlaCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                       std::int64_t credit, const Json& args)
    : SourceCommand(ctx, sink, cmdId, credit, readSourceArgs(args),
                    static_cast<int>(optInt(args, "timeout").value_or(0))) {
  archive_ = optString(args, "archive").value_or("");
  checkArgument("archive", archive_);
  if (!validArchive(archive_))
    throw ProtocolError("bad archive '" + archive_ + "': an Arch archive name is like user@example.org--2026");
  version_ = args_.branch.empty() ? optString(args, "default_branch").value_or("") : args_.branch;
  checkArgument("branch name", version_);
  if (!validVersion(version_))
    throw ProtocolError("bad branch '" + version_ +
                        "': an Arch branch is a version, category--branch--1.0");
  if (!args_.revision.empty() && !validLevel(args_.revision))
    throw ProtocolError("bad revision '" + args_.revision +
                        "': an Arch revision is a patch level: patch-N, base-0, version-N or versionfix-N");
}

void TlaCommand::planCheckout() {
  add({"tla", "register-archive", "--force", archive_, args_.repo});
  std::string target = archive_ + "/" + version_;
  if (!args_.revision.empty()) target += "--" + args_.revision;
  // tla get only makes a new directory: get below, then move up.
  add({"tla", "get", "--silent", target, kGetDir});
  addInternal([this](const std::string&) { return moveUpFrom(kGetDir); });
}

void TlaCommand::planUpdate() {
  add({"tla", "register-archive", "--force", archive_, args_.repo});
  add({"tla", "update"});
}

void TlaCommand::planClean(bool ignored) {
  // One line per entry: its class (S source, P precious, B backup, J junk,
  // U unrecognized; "?" after it: no inventory id, i.e. untracked), the
  // path, a tab and the id.
  add({"tla", "inventory", "--both", "--source", "--precious", "--backups", "--junk", "--unrecognized",
       "--ids"},
      [this, ignored](const std::string& out) {
        std::vector<std::string> paths;
        std::istringstream in(out);
        std::string line;
        while (std::getline(in, line)) {
          const auto sp = line.find(' ');
          const auto tab = line.find('\t');
          if (sp == std::string::npos || tab == std::string::npos || tab < sp) continue;
          const std::string cls = line.substr(0, sp);
          std::size_t at = sp;
          while (at < tab && line[at] == ' ') ++at;
          const bool keep = cls == "S" || (cls == "P" && !ignored);
          if (!keep) paths.push_back(line.substr(at, tab - at));
        }
        return removeInTree(paths, {metadataDir(), ".arch-ids"});
      });
  add({"tla", "undo", "--no-output", "--quiet"});
}

void TlaCommand::planRevision() { add({"tla", "logs", "--full", "--reverse"}); }

}  // namespace bb::vcs
