#include "slave/vcs/cvs.hpp"

#include <ctime>
#include <regex>
#include <sstream>

#include "common/vcs_args.hpp"

namespace bb::vcs {

namespace {

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

CvsCommand::CvsCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                       std::int64_t credit, const Json& args)
    : SourceCommand(ctx, sink, cmdId, credit, readSourceArgs(args),
                    static_cast<int>(optInt(args, "timeout").value_or(0))) {
  checkCvsRoot(args_.repo);
  module_ = optString(args, "module").value_or("");
  if (module_.empty()) throw ProtocolError("field 'module' must name the CVS module to check out");
  checkBranchPath("module", module_);
  tag_ = args_.branch == "HEAD" ? "" : args_.branch;
  for (std::size_t i = 0; i < tag_.size(); ++i) {
    const char c = tag_[i];
    if (!(isAlpha(c) || (i > 0 && (isDigit(c) || c == '-' || c == '_'))))
      throw ProtocolError("bad branch '" + tag_ +
                          "': a CVS tag is a letter, then letters, digits, '-' and '_'");
  }
  if (!args_.revision.empty()) {
    for (char c : args_.revision)
      if (!(isAlpha(c) || isDigit(c) || c == ' ' || c == ':' || c == '+' || c == '-' || c == '/' ||
            c == '.' || c == '@'))
        throw ProtocolError("bad revision '" + args_.revision +
                            "': a CVS revision is a date, e.g. 2026-12-01T10:00:00Z");
    revision_ = args_.revision;
  } else {
    char buf[64];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    revision_ = buf;
  }
}

std::string CvsCommand::dateForCvs(const std::string& date) {
  // CVS reads "T" in an ISO date as a military time zone: spell it out.
  static const std::regex iso("([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2})Z");
  std::smatch m;
  if (std::regex_match(date, m, iso)) return m[1].str() + " " + m[2].str() + " +0000";
  return date;
}

void CvsCommand::checkCvsRoot(const std::string& root) {
  if (root.empty() || root[0] != ':') return;  // a local path: checkRepoUrl did it
  // :method[;options]:[user[:password]@]host[:port]:/path
  const auto second = root.find(':', 1);
  if (second == std::string::npos) return;
  const std::string rest = root.substr(second + 1);
  const auto at = rest.find('@');
  const auto slash = rest.find('/');
  const std::string host = at != std::string::npos && at < slash ? rest.substr(at + 1) : rest;
  if ((!rest.empty() && rest[0] == '-') || (!host.empty() && host[0] == '-'))
    throw ProtocolError("bad repository URL '" + root +
                        "': its host starts with '-' and ssh would read it as an option");
}

std::vector<std::string> CvsCommand::cvs(std::vector<std::string> args) const {
  // -f: no ~/.cvsrc defaults; -q: no per-directory chatter.
  args.insert(args.begin(), {"cvs", "-f", "-q"});
  return args;
}

void CvsCommand::planCheckout() {
  std::vector<std::string> argv = cvs({"-d", args_.repo, "checkout", "-P", "-d", "."});
  if (!tag_.empty()) argv.insert(argv.end(), {"-r", tag_});
  if (!args_.revision.empty()) argv.insert(argv.end(), {"-D", dateForCvs(args_.revision)});
  argv.insert(argv.end(), {"--", module_});
  add(std::move(argv));
}

void CvsCommand::planUpdate() {
  std::vector<std::string> argv = cvs({"update", "-d", "-P"});
  if (!tag_.empty()) argv.insert(argv.end(), {"-r", tag_});
  if (!args_.revision.empty()) argv.insert(argv.end(), {"-D", dateForCvs(args_.revision)});
  if (tag_.empty() && args_.revision.empty()) argv.push_back("-A");  // drop a sticky tag or date
  add(std::move(argv));
}

void CvsCommand::planClean(bool ignored) {
  std::vector<std::string> argv = cvs({"-n", "update"});
  if (ignored) argv.insert(argv.end(), {"-I", "!"});
  add(std::move(argv), [this](const std::string& out) {
    std::vector<std::string> paths;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
      if (line.size() > 2 && line[1] == ' ' && (line[0] == '?' || line[0] == 'M' || line[0] == 'C'))
        paths.push_back(line.substr(2));
    return removeInTree(paths, {metadataDir()});
  });
}

}  // namespace bb::vcs
