#include "client/request_command.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <ostream>

#include "client/client_error.hpp"
#include "client/status_format.hpp"

namespace bb::client {

namespace {

// The listed options; the positional words ("args") are added by
// parseVerbArgs, so --help does not show them as an option.
po::options_description requestOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  return desc;
}

std::vector<std::string> positionals(const po::variables_map& vm) {
  if (!vm.count("args")) return {};
  return vm["args"].as<std::vector<std::string>>();
}

// A whole decimal number in [lo, hi]; UsageError naming `what` otherwise.
std::int64_t number(const std::string& verb, const std::string& what, const std::string& text,
                    std::int64_t lo, std::int64_t hi) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || v < lo || v > hi)
    throw UsageError("buildbot " + verb + ": " + what + " must be a whole number from " +
                     std::to_string(lo) + " to " + std::to_string(hi) + ", got '" + text + "'");
  return v;
}

const char* kCancelDescription =
    "Cancel pending build requests (ones that have not started a build yet). A\n"
    "cancelled request is complete with result CANCELLED and says who cancelled\n"
    "it; its buildset completes when its other requests do. A request whose build\n"
    "has started is refused (stop the build with 'buildbot stop-build'). Request ids\n"
    "are shown by\n"
    "'buildbot force', 'buildbot change-status' and the buildset view.\n"
    "Needs 'force' in the user's 'may' list.";

const char* kPriorityDescription =
    "Set the priority of a build request that has not completed. Pending requests\n"
    "run highest priority first, then oldest first; the default priority is the\n"
    "scheduler's (0 unless configured). PRIORITY is -1000000..1000000.\n"
    "Needs 'force' in the user's 'may' list.";

const char* kStopDescription =
    "Stop a running build: its command (and every process it started) is\n"
    "interrupted and the build ends CANCELLED, keeping what it logged so far; a\n"
    "build still waiting for a lock stops waiting and releases nothing it did not\n"
    "hold. Builds it triggered keep running. Needs 'force' in the user's 'may' list.";

}  // namespace

int runStopBuild(const std::vector<std::string>& args, const ConnectionFlags& global,
                 CliContext& ctx) {
  po::options_description desc = requestOptions();
  desc.add_options()("reason", po::value<std::string>()->value_name("TEXT"),
                     "why, recorded on the build");
  const po::variables_map vm = parseVerbArgs("stop-build", args, desc, "args");
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "stop-build", "BUILDER NUMBER [--reason TEXT]", kStopDescription, desc);
    return kExitOk;
  }
  const auto words = positionals(vm);
  if (words.size() != 2)
    throw UsageError("buildbot stop-build: give the builder and the build number, e.g. "
                     "'buildbot stop-build linux 12'");
  const std::int64_t n = number("stop-build", "the build number", words[1], 1, INT32_MAX);
  Json params{{"builder", words[0]}, {"number", n}};
  if (vm.count("reason")) params["reason"] = vm["reason"].as<std::string>();
  Session session = openSession(connectionFlags(vm), global, ctx);
  session.sender->call("stop_build", params);
  *ctx.out << "build " << words[0] << " #" << n << " is stopping\n";
  return kExitOk;
}

int runCancel(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx) {
  po::options_description desc = requestOptions();
  desc.add_options()("json", "print each answer as JSON (an error with its code)");
  const po::variables_map vm = parseVerbArgs("cancel", args, desc, "args");
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "cancel", "REQUEST_ID... [--json]", kCancelDescription, desc);
    return kExitOk;
  }
  const auto words = positionals(vm);
  if (words.empty()) throw UsageError("buildbot cancel: give at least one build request id");
  std::vector<std::int64_t> ids;
  for (const auto& w : words) ids.push_back(number("cancel", "a request id", w, 1, INT64_MAX));
  const bool json = vm.count("json") > 0;
  Session session = openSession(connectionFlags(vm), global, ctx);
  int rc = kExitOk;
  Json answers = Json::array();
  for (std::int64_t id : ids) {
    try {
      answers.push_back(session.sender->call("cancel", Json{{"request_id", id}}));
      if (!json) *ctx.out << "request " << id << " cancelled\n";
    } catch (const MasterError& e) {
      // The master's message names the request already.
      answers.push_back(Json{{"request_id", id}, {"error", masterErrorJson(e)}});
      if (!json) *ctx.err << formatMasterError("cancel", e);
      rc = kExitMasterError;
    }
  }
  if (json) *ctx.out << answers.dump(2) << "\n";
  return rc;
}

int runPriority(const std::vector<std::string>& args, const ConnectionFlags& global,
                CliContext& ctx) {
  // A negative priority ("-5") is a value, not an option: keep it out of
  // the option parser.
  std::vector<std::string> optionArgs, negatives;
  for (const auto& a : args) {
    if (a.size() > 1 && a[0] == '-' && std::isdigit(static_cast<unsigned char>(a[1])))
      negatives.push_back(a);
    else
      optionArgs.push_back(a);
  }
  const po::variables_map vm = parseVerbArgs("priority", optionArgs, requestOptions(), "args");
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "priority", "REQUEST_ID PRIORITY", kPriorityDescription, requestOptions());
    return kExitOk;
  }
  auto words = positionals(vm);
  words.insert(words.end(), negatives.begin(), negatives.end());
  if (words.size() != 2)
    throw UsageError("buildbot priority: give a request id and a priority, e.g. 'buildbot "
                     "priority 12 10'");
  const std::int64_t id = number("priority", "the request id", words[0], 1, INT64_MAX);
  const std::int64_t prio = number("priority", "the priority", words[1], -1000000, 1000000);
  Session session = openSession(connectionFlags(vm), global, ctx);
  const Json r = session.sender->call("priority", Json{{"request_id", id}, {"priority", prio}});
  *ctx.out << "request " << id << ": priority " << cellText(r.value("previous", Json())) << " -> "
           << prio << (r.value("claimed", false) ? " (its build has started; applies to retries)"
                                                  : "")
           << "\n";
  return kExitOk;
}

}  // namespace bb::client
