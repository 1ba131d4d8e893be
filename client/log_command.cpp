#include "client/log_command.hpp"

#include <map>
#include <ostream>
#include <set>
#include <thread>

#include "client/client_error.hpp"
#include "client/status_format.hpp"

namespace bb::client {

namespace {

const char* kLogSynopsis = "BUILDER NUMBER [STEP] [--log NAME] [--follow]";
const char* kLogDescription =
    "Print the logs of build NUMBER of BUILDER: every step's, or only STEP's (its\n"
    "number or name). One log is printed as it is; several get a header line each.\n"
    "A log of any size is read page by page. With --follow, a running build is\n"
    "followed live: each log is printed as it grows, then the next one, until the\n"
    "build has finished. Needs 'status' in the user's 'may' list.";

po::options_description logOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()
      ("log", po::value<std::string>()->value_name("NAME"), "only the log with this name (e.g. stdio)")
      ("follow,f", "follow a running build until it has finished");
  return desc;
}

struct LogRef {
  std::int64_t id = 0;
  std::string header;  // "----- step 2 test, log stdio -----"
};

// Does `step` match the STEP argument (a number or a name)?
bool stepMatches(const Json& step, const std::string& want) {
  if (want.empty()) return true;
  if (want.find_first_not_of("0123456789") == std::string::npos)
    return cellText(step.value("number", Json())) == want;
  return step.value("name", "") == want;
}

// The build's logs that the arguments select, in step order.
std::vector<LogRef> selectLogs(const Json& build, const std::string& step, const std::string& logName) {
  std::vector<LogRef> out;
  for (const auto& s : build.value("steps", Json::array())) {
    if (!s.is_object() || !stepMatches(s, step)) continue;
    for (const auto& l : s.value("logs", Json::array())) {
      if (!l.is_object() || (!logName.empty() && l.value("name", "") != logName)) continue;
      out.push_back({l.value("id", std::int64_t{0}),
                     "----- step " + cellText(s.value("number", Json())) + " " +
                         cellText(s.value("name", Json())) + ", log " +
                         cellText(l.value("name", Json())) + " -----"});
    }
  }
  return out;
}

// "its steps: 1 git, 2 test" for an error message.
std::string stepList(const Json& build) {
  std::string list;
  for (const auto& s : build.value("steps", Json::array()))
    list += (list.empty() ? "" : ", ") + cellText(s.value("number", Json())) + " " +
            cellText(s.value("name", Json()));
  return list.empty() ? "it has no steps yet" : "its steps: " + list;
}

}  // namespace

int runLog(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx) {
  const po::variables_map vm = parseVerbArgs("log", args, logOptions(), "words");
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "log", kLogSynopsis, kLogDescription, logOptions());
    return kExitOk;
  }
  const auto words =
      vm.count("words") ? vm["words"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (words.size() < 2 || words.size() > 3)
    throw UsageError("buildbot log: give the builder, the build number and optionally a step, "
                     "e.g. 'buildbot log linux 12 test'");
  const std::string& builder = words[0];
  if (words[1].empty() || words[1].size() > 9 ||
      words[1].find_first_not_of("0123456789") != std::string::npos || std::stol(words[1]) < 1)
    throw UsageError("buildbot log: the build number must be a whole number from 1, got '" +
                     words[1] + "'");
  const std::int64_t number = std::stol(words[1]);
  const std::string step = words.size() == 3 ? words[2] : "";
  const std::string logName = vm.count("log") ? vm["log"].as<std::string>() : "";
  const bool follow = vm.count("follow") > 0;

  Session session = openSession(connectionFlags(vm), global, ctx);
  std::ostream& out = *ctx.out;
  std::map<std::int64_t, std::int64_t> offsets;  // log id -> next byte to read
  std::set<std::int64_t> finished;               // logs read to their end
  const std::string what = builder + " #" + std::to_string(number);
  while (true) {
    const Json reply = session.sender->call("build", Json{{"builder", builder}, {"number", number}});
    const Json build = reply.value("build", Json::object());
    const bool buildDone = build.value("finished", true);
    const auto logs = selectLogs(build, step, logName);
    if (logs.empty() && (!follow || buildDone)) {
      if (!step.empty() && !build.value("steps", Json::array()).empty() &&
          selectLogs(build, step, "").empty())
        throw MasterError("not_found", "build " + what + " has no step '" + step + "'; " + stepList(build), {});
      throw MasterError("not_found", "build " + what + " has no log" +
                                         (logName.empty() ? "" : " named '" + logName + "'") +
                                         (step.empty() ? "" : " in step " + step) + " yet",
                        {});
    }
    // One log alone prints raw; several are told apart by a header line.
    const bool headers = logs.size() > 1 || (step.empty() && logName.empty());
    bool waiting = false;  // an unfinished log: later ones wait for it
    for (const auto& log : logs) {
      if (finished.count(log.id)) continue;
      auto [it, fresh] = offsets.emplace(log.id, 0);
      if (fresh && headers) out << (log.id == logs.front().id ? "" : "\n") << log.header << "\n";
      Json page;
      do {
        page = session.sender->call("log", Json{{"log_id", log.id}, {"offset", it->second}});
        if (auto d = page.find("data"); d != page.end() && d->is_binary() && !d->get_binary().empty()) {
          const auto& bytes = d->get_binary();
          out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        }
        it->second = page.value("next_offset", it->second);
        out.flush();
      } while (page.value("more", false));
      if (page.value("finished", true) || !follow) {
        finished.insert(log.id);
        if (!page.value("finished", true))
          *ctx.err << "buildbot log: " << log.header.substr(6, log.header.size() - 12)
                   << " of running build " << what
                   << " is still being written; --follow keeps reading it\n";
      } else {
        waiting = true;
        break;
      }
    }
    if (!follow) return kExitOk;
    if (!waiting && buildDone) return kExitOk;
    std::this_thread::sleep_for(ctx.pollInterval);
    if (ctx.interrupted && ctx.interrupted()) {  // Ctrl-C: the build goes on
      *ctx.err << "buildbot log: stopped following " << what << "; the build goes on\n";
      return kExitOk;
    }
  }
}

}  // namespace bb::client
