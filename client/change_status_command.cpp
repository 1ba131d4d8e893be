#include "client/change_status_command.hpp"

#include <ostream>

#include "client/client_error.hpp"
#include "client/status_format.hpp"

namespace bb::client {

namespace {

const char* kChangeStatusSynopsis = "ID [--json]";
const char* kChangeStatusDescription =
    "Show what happened to change ID: the schedulers that built it (their buildsets,\n"
    "requests and results), the ones still waiting on it and why (a tree-stable timer,\n"
    "the next nightly run, an upstream buildset), and the ones that ignored it and why.\n"
    "Needs 'status' in the user's 'may' list.";

po::options_description changeStatusOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()("change", po::value<std::int64_t>()->value_name("ID"), "the change id")(
      "json", "print the master's answer as JSON");
  return desc;
}

}  // namespace

std::string formatChangeStatus(const Json& result) {
  const Json c = result.value("change", Json::object());
  std::string out = "change " + cellText(c.value("id", Json())) + " on " + cellText(c.value("branch", Json())) +
                    " revision " + cellText(c.value("revision", Json())) + " by " +
                    cellText(c.value("author", Json())) + " (from " + cellText(c.value("source", Json())) +
                    ")\n";
  for (const char* state : {"built", "waiting", "ignored"}) {
    std::vector<std::string> lines;
    for (const auto& s : result.value("schedulers", Json::array())) {
      if (s.value("state", "") != state) continue;
      std::string line = "  " + cellText(s.value("scheduler", Json())) + " (" + cellText(s.value("type", Json())) + ")";
      if (s.contains("reason")) line += ": " + cellText(s["reason"]);
      lines.push_back(line);
      for (const auto& bs : s.value("buildsets", Json::array())) {
        lines.push_back("    buildset " + cellText(bs.value("id", Json())) + ": " + cellText(bs.value("result", Json())));
        for (const auto& r : bs.value("requests", Json::array())) {
          std::string req = "      " + cellText(r.value("builder", Json())) + ": " + cellText(r.value("result", Json()));
          for (const auto& b : r.value("builds", Json::array()))
            req += ", build #" + cellText(b.value("number", Json())) + " " + cellText(b.value("result", Json()));
          if (r.contains("text")) req += " (" + cellText(r["text"]) + ")";
          lines.push_back(req);
        }
      }
    }
    out += std::string(state == std::string("built") ? "built by" : state == std::string("waiting") ? "waiting in" : "ignored by") +
           (lines.empty() ? ": none\n" : ":\n");
    for (const auto& l : lines) out += l + "\n";
  }
  return out;
}

int runChangeStatus(const std::vector<std::string>& args, const ConnectionFlags& global,
                    CliContext& ctx) {
  const po::variables_map vm = parseVerbArgs("change-status", args, changeStatusOptions(), "change");
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "change-status", kChangeStatusSynopsis, kChangeStatusDescription, changeStatusOptions());
    return kExitOk;
  }
  if (!vm.count("change")) throw UsageError("buildbot change-status: give the change ID");
  Session session = openSession(connectionFlags(vm), global, ctx);
  const Json result = session.sender->call("change_status", Json{{"change_id", vm["change"].as<std::int64_t>()}});
  if (vm.count("json")) *ctx.out << result.dump(2) << "\n";
  else *ctx.out << formatChangeStatus(result);
  return kExitOk;
}

}  // namespace bb::client
