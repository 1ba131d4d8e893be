#include "client/sendchange_command.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>
#include <sstream>

#include "client/client_error.hpp"

namespace bb::client {

namespace {

const char* kSendchangeSynopsis = "[options] [FILES...]";
const char* kSendchangeDescription =
    "Tell the master about a change (a commit) so that its schedulers can start builds.\n"
    "FILES are the paths the change touched. Needs 'sendchange' in the user's 'may' list.";

po::options_description sendchangeOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()
      ("who,W", po::value<std::string>()->value_name("AUTHOR"),
       "the author of the change (default: the --auth user)")
      ("repository,R", po::value<std::string>()->value_name("URL"), "the repository URL")
      ("project,P", po::value<std::string>()->value_name("NAME"), "the project")
      ("branch,b", po::value<std::string>()->value_name("BRANCH"), "the branch")
      ("revision,r", po::value<std::string>()->value_name("REV"), "the revision (commit id)")
      ("category,C", po::value<std::string>()->value_name("CAT"), "the category")
      ("comments,c", po::value<std::string>()->value_name("TEXT"), "the commit message")
      ("logfile,F", po::value<std::string>()->value_name("FILE"),
       "read the commit message from FILE ('-' for standard input)")
      ("property,s", po::value<std::vector<std::string>>()->composing()->value_name("NAME:VALUE"),
       "a property of the change (repeatable)")
      ("when", po::value<std::string>()->value_name("UNIXTIME"),
       "when the change was made (seconds since the epoch; default: now)");
  return desc;
}

po::options_description hiddenOptions() {
  po::options_description hidden;
  hidden.add_options()("files", po::value<std::vector<std::string>>()->composing(), "files");
  return hidden;
}

std::string readAll(std::istream& in, const std::string& what) {
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw UsageError("cannot read " + what);
  return ss.str();
}

std::string sendchangeStr(const po::variables_map& vm, const char* key) {
  return vm.count(key) ? vm[key].as<std::string>() : std::string();
}

}  // namespace

SendchangeRequest parseSendchange(const std::vector<std::string>& args, CliContext& ctx) {
  po::options_description all;
  all.add(sendchangeOptions()).add(hiddenOptions());
  const po::variables_map vm = parseVerbArgs("sendchange", args, all, "files");
  SendchangeRequest req;
  req.flags = connectionFlags(vm);
  if (vm.count("help")) {
    req.help = true;
    return req;
  }
  if (vm.count("comments") && vm.count("logfile"))
    throw UsageError("buildbot sendchange: give either --comments or --logfile, not both");
  std::string comments = sendchangeStr(vm, "comments");
  if (vm.count("logfile")) {
    const std::string path = vm["logfile"].as<std::string>();
    if (path == "-") {
      if (!ctx.in) throw UsageError("buildbot sendchange: no standard input to read");
      comments = readAll(*ctx.in, "standard input");
    } else {
      std::ifstream f(path);
      if (!f)
        throw UsageError("buildbot sendchange: cannot read --logfile " + path + ": " +
                         std::strerror(errno));
      comments = readAll(f, path);
    }
  }
  Json& p = req.params;
  p["author"] = sendchangeStr(vm, "who");
  p["repository"] = sendchangeStr(vm, "repository");
  p["project"] = sendchangeStr(vm, "project");
  p["branch"] = sendchangeStr(vm, "branch");
  p["revision"] = sendchangeStr(vm, "revision");
  p["category"] = sendchangeStr(vm, "category");
  p["comments"] = comments;
  p["files"] = vm.count("files") ? Json(vm["files"].as<std::vector<std::string>>()) : Json::array();
  try {
    p["properties"] = parseProperties(
        vm.count("property") ? vm["property"].as<std::vector<std::string>>()
                             : std::vector<std::string>{});
  } catch (const UsageError& e) {
    throw UsageError(std::string("buildbot sendchange: ") + e.what());
  }
  if (vm.count("when")) {
    const std::string w = vm["when"].as<std::string>();
    char* end = nullptr;
    errno = 0;
    const double when = std::strtod(w.c_str(), &end);
    if (w.empty() || end == nullptr || *end != '\0' || errno != 0 || when < 0)
      throw UsageError("buildbot sendchange: bad --when '" + w +
                       "': expected seconds since the epoch");
    p["when"] = static_cast<std::int64_t>(when);
  }
  return req;
}

int runSendchange(const std::vector<std::string>& args, const ConnectionFlags& global,
                  CliContext& ctx) {
  SendchangeRequest req = parseSendchange(args, ctx);
  if (req.help) {
    printVerbHelp(*ctx.out, "sendchange", kSendchangeSynopsis, kSendchangeDescription, sendchangeOptions());
    return kExitOk;
  }
  Session session = openSession(req.flags, global, ctx);
  // Buildbot requires an author; ours defaults to the user who logs in.
  if (req.params["author"].get<std::string>().empty())
    req.params["author"] = session.credentials.user;
  const Json result = session.sender->call("sendchange", req.params);
  printNotes(*ctx.err, "sendchange", result);
  *ctx.out << "change sent successfully";
  if (result.contains("change_id")) *ctx.out << " (change " << result["change_id"].dump() << ")";
  *ctx.out << "\n";
  return kExitOk;
}

}  // namespace bb::client
