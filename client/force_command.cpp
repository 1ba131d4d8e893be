#include "client/force_command.hpp"

#include <ostream>

#include "client/client_error.hpp"
#include "client/event_format.hpp"
#include "client/status_format.hpp"
#include "client/watch_command.hpp"

namespace bb::client {

namespace {

const char* kForceSynopsis = "--scheduler NAME [options]";
const char* kForceDescription =
    "Start builds now through a force scheduler of the master. Prints the buildset id and\n"
    "one build request per builder (the ids cancel and priority take); with --wait, also\n"
    "each build's number as it starts. Needs 'force' in the user's 'may' list.";

po::options_description forceOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()
      ("scheduler", po::value<std::string>()->value_name("NAME"),
       "the force scheduler to use (required)")
      ("builder", po::value<std::vector<std::string>>()->composing()->value_name("NAME"),
       "a builder to build on (repeatable; default: all of the scheduler's builders)")
      ("branch", po::value<std::string>()->value_name("BRANCH"), "the branch to build")
      ("revision", po::value<std::string>()->value_name("REV"), "the revision to build")
      ("reason", po::value<std::string>()->value_name("TEXT"), "why the build is forced")
      ("owner", po::value<std::string>()->value_name("WHO"),
       "who owns the build (default: the --auth user)")
      ("priority", po::value<int>()->value_name("N"),
       "the requests' priority, -1000000..1000000 (default: the scheduler's); higher runs first")
      ("property", po::value<std::vector<std::string>>()->composing()->value_name("NAME:VALUE"),
       "a build property (repeatable)")
      ("wait", "follow the builds as they run (build started, each step's result) and print the "
               "results once every build finished; exit 1 unless all succeeded (success or "
               "warnings). Ctrl-C stops waiting; the builds keep running")
      ("json", "print the master's answer as JSON (an error with its code); with --wait, "
               "once, with the finished buildset");
  return desc;
}

std::string forceStr(const po::variables_map& vm, const char* key) {
  return vm.count(key) ? vm[key].as<std::string>() : std::string();
}

// "b1: success (build #3)" for one request of a buildset.
std::string describeRequest(const Json& req) {
  std::string line = cellText(req.value("builder", Json())) + ": " + displayResult(req);
  if (req.contains("complete") && req["complete"].is_boolean() && !req["complete"].get<bool>())
    line = cellText(req.value("builder", Json())) + ": not complete";
  std::string builds;
  if (auto it = req.find("builds"); it != req.end() && it->is_array()) {
    for (const auto& b : *it) {
      if (!b.is_object() || !b.contains("number")) continue;
      if (!builds.empty()) builds += ", ";
      builds += "build #" + cellText(b["number"]);
    }
  }
  if (!builds.empty()) line += " (" + builds + ")";
  return line;
}

}  // namespace

bool isPassingResult(const std::string& result) {
  return result == "success" || result == "warnings";
}

ForceRequest parseForce(const std::vector<std::string>& args) {
  const po::variables_map vm = parseVerbArgs("force", args, forceOptions());
  ForceRequest req;
  req.flags = connectionFlags(vm);
  if (vm.count("help")) {
    req.help = true;
    return req;
  }
  if (!vm.count("scheduler") || vm["scheduler"].as<std::string>().empty())
    throw UsageError("buildbot force: --scheduler NAME is required (see 'buildbot force --help')");
  req.wait = vm.count("wait") > 0;
  req.json = vm.count("json") > 0;
  Json& p = req.params;
  p["scheduler"] = vm["scheduler"].as<std::string>();
  p["builders"] =
      vm.count("builder") ? Json(vm["builder"].as<std::vector<std::string>>()) : Json::array();
  p["branch"] = forceStr(vm, "branch");
  p["revision"] = forceStr(vm, "revision");
  p["reason"] = forceStr(vm, "reason");
  p["owner"] = forceStr(vm, "owner");
  if (vm.count("priority")) p["priority"] = vm["priority"].as<int>();
  try {
    p["properties"] = parseProperties(
        vm.count("property") ? vm["property"].as<std::vector<std::string>>()
                             : std::vector<std::string>{});
  } catch (const UsageError& e) {
    throw UsageError(std::string("buildbot force: ") + e.what());
  }
  return req;
}

int runForce(const std::vector<std::string>& args, const ConnectionFlags& global,
             CliContext& ctx) {
  ForceRequest req = parseForce(args);
  if (req.help) {
    printVerbHelp(*ctx.out, "force", kForceSynopsis, kForceDescription, forceOptions());
    return kExitOk;
  }
  Session session = openSession(req.flags, global, ctx);
  if (req.params["owner"].get<std::string>().empty()) req.params["owner"] = session.credentials.user;
  if (req.params["reason"].get<std::string>().empty())
    req.params["reason"] = "forced by " + session.credentials.user + " with 'buildbot force'";

  Json result = session.sender->call("force", req.params);
  std::ostream& out = *ctx.out;
  const Json buildsetId = result.value("buildset_id", Json());
  if (req.json) {
    if (!req.wait) out << result.dump(2) << "\n";
  } else {
    printNotes(*ctx.err, "force", result);
    out << "buildset " << cellText(buildsetId) << " submitted\n";
    if (auto it = result.find("requests"); it != result.end() && it->is_object())
      for (const auto& [builder, id] : it->items())
        out << "  " << builder << ": build request " << cellText(id) << "\n";
  }
  out.flush();
  if (!req.wait) return kExitOk;

  // Follow the buildset by subscription: the master pushes its events, and
  // every event about it comes after `event_seq`, so none is missed.
  Json sub{{"buildset_id", buildsetId}};
  if (auto seq = result.find("event_seq"); seq != result.end() && seq->is_number_integer())
    sub["after_seq"] = *seq;
  const Json subscribed = session.sender->call("subscribe", sub);
  const std::int64_t subId = subscribed.value("subscription_id", std::int64_t{0});
  bool interrupted = false;
  followEvents(*session.sender, subId, ctx,
               [&](const Json& e) {
                 const std::string type = e.value("type", "");
                 if (!req.json &&
                     (type == "build.started" || type == "step.finished" || type == "build.finished"))
                   out << "  " << formatEvent(e) << "\n" << std::flush;
                 return type != "buildset.completed";
               },
               &interrupted);
  if (interrupted) {
    out << "stopped waiting; buildset " << cellText(buildsetId)
        << " and its builds keep running on the master\n";
    return kExitMasterError;
  }
  const Json r = session.sender->call("buildset", Json{{"id", buildsetId}});
  const Json buildset = r.value("buildset", Json::object());
  const std::string overall = cellText(buildset.value("result", Json()));
  if (req.json) {
    result["buildset"] = buildset;
    out << result.dump(2) << "\n";
    return isPassingResult(overall) ? kExitOk : kExitMasterError;
  }
  if (auto it = buildset.find("requests"); it != buildset.end() && it->is_array())
    for (const auto& one : *it) out << "  " << describeRequest(one) << "\n";
  out << "buildset " << cellText(buildsetId) << " complete: " << overall << "\n";
  return isPassingResult(overall) ? kExitOk : kExitMasterError;
}

}  // namespace bb::client
