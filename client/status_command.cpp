#include "client/status_command.hpp"

#include <ostream>

#include "client/client_error.hpp"
#include "client/status_format.hpp"

namespace bb::client {

namespace {

const char* kStatusSynopsis = "[--builder NAME [--build N [--logs]]] [--limit N] [--json]";
const char* kStatusDescription =
    "Show the latest builds of every builder (or of one with --builder), the requests\n"
    "waiting to run (their ids are what cancel and priority take) and each slave's\n"
    "state (connected, draining or offline; builds running / max). With\n"
    "--build N, show that build's steps; --logs adds the text of every step's logs.\n"
    "Needs 'status' in the user's 'may' list.";

po::options_description statusOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()
      ("builder", po::value<std::string>()->value_name("NAME"), "only this builder")
      ("build", po::value<std::int64_t>()->value_name("N"),
       "show build number N of --builder in detail")
      ("limit", po::value<std::int64_t>()->value_name("N"), "at most N builds per builder")
      ("logs", "with --build: print the text of each step's logs")
      ("json", "print the master's answer as JSON");
  return desc;
}

// How long a build or step took, or for one still running, how long it has
// run by the master's clock `now` ("running 1m 05s").
std::string durationCell(const Json& item, const Json& now) {
  if (item.value("finished", true))
    return formatDuration(item.value("started_at", Json()), item.value("finished_at", Json()));
  const std::string elapsed = formatDuration(item.value("started_at", Json()), now);
  return elapsed == "-" ? "running" : "running " + elapsed;
}

// One row of the builds table.
std::vector<std::string> buildRow(const Json& b, const std::string& builder, const Json& now) {
  return {builder,
         "#" + cellText(b.value("number", Json())),
         displayResult(b),
         cellText(b.value("slave", Json())),
         formatTimestamp(b.value("started_at", Json())),
         durationCell(b, now)};
}

}  // namespace

StatusRequest parseStatus(const std::vector<std::string>& args) {
  const po::variables_map vm = parseVerbArgs("status", args, statusOptions());
  StatusRequest req;
  req.flags = connectionFlags(vm);
  if (vm.count("help")) {
    req.help = true;
    return req;
  }
  if (vm.count("builder")) req.builder = vm["builder"].as<std::string>();
  if (vm.count("build")) req.build = vm["build"].as<std::int64_t>();
  if (vm.count("limit")) req.limit = vm["limit"].as<std::int64_t>();
  req.logs = vm.count("logs") > 0;
  req.json = vm.count("json") > 0;
  if (req.build && !req.builder)
    throw UsageError("buildbot status: --build needs --builder NAME");
  if (req.logs && !req.build) throw UsageError("buildbot status: --logs needs --build N");
  if (req.limit && *req.limit <= 0)
    throw UsageError("buildbot status: --limit must be a positive number");
  if (req.build && *req.build < 0)
    throw UsageError("buildbot status: --build must not be negative");
  return req;
}

std::string formatBuildsTable(const Json& statusResult) {
  std::vector<std::vector<std::string>> rows{
      {"BUILDER", "BUILD", "RESULT", "SLAVE", "STARTED", "DURATION"}};
  const Json builders = statusResult.value("builders", Json::array());
  for (const auto& builder : builders) {
    const std::string name = cellText(builder.value("name", Json()));
    const Json builds = builder.value("builds", Json::array());
    if (builds.empty()) {
      rows.push_back({name, "-", "no builds", "", "", ""});
      continue;
    }
    for (const auto& b : builds) {
      rows.push_back(buildRow(b, name, statusResult.value("now", Json())));
    }
  }
  std::string out = formatTable(rows);
  // Why each builder's newest build failed.
  for (const auto& builder : builders) {
    const Json builds = builder.value("builds", Json::array());
    if (builds.empty() || !builds[0].is_object()) continue;
    const Json failure = builds[0].value("failure", Json());
    if (failure.is_object())
      out += "\n" + formatFailure(cellText(builder.value("name", Json())) + " #" +
                                      cellText(builds[0].value("number", Json())),
                                  failure);
  }
  // Waiting requests, in the order they will run: the ids cancel and
  // priority take.
  std::vector<std::vector<std::string>> pending{{"REQUEST", "BUILDER", "PRIORITY", "SUBMITTED"}};
  for (const auto& builder : builders)
    for (const auto& r : builder.value("pending", Json::array()))
      pending.push_back({cellText(r.value("id", Json())), cellText(builder.value("name", Json())),
                         cellText(r.value("priority", Json())),
                         formatTimestamp(r.value("submitted_at", Json()))});
  if (pending.size() > 1) out += "\nPending requests:\n" + formatTable(pending);
  for (const auto& builder : builders) {
    const std::size_t listed = builder.value("pending", Json::array()).size();
    const std::size_t total = builder.value("pending_count", std::size_t{0});
    if (total > listed)
      out += "  ... and " + std::to_string(total - listed) + " more pending for " +
             cellText(builder.value("name", Json())) + "\n";
  }
  const Json slaves = statusResult.value("slaves", Json::array());
  if (!slaves.empty()) {
    std::vector<std::vector<std::string>> rows2{{"SLAVE", "STATE", "BUILDS"}};
    for (const auto& sl : slaves) {
      std::string state = cellText(sl.value("state", Json()));
      const double backoff = sl.value("backoff_seconds", 0.0);
      if (backoff > 0) state += " (ping failed; no claims for " + std::to_string(static_cast<int>(backoff + 0.5)) + " s)";
      rows2.push_back({cellText(sl.value("name", Json())), state,
                       cellText(sl.value("builds", Json())) + "/" + cellText(sl.value("max_builds", Json()))});
    }
    out += "\nSlaves:\n" + formatTable(rows2);
  }
  const Json schedulers = statusResult.value("schedulers", Json::array());
  if (schedulers.is_array() && !schedulers.empty()) {
    out += "\nSchedulers:\n";
    for (const auto& s : schedulers) out += "  " + formatSchedulerLine(s) + "\n";
  }
  // Each reporter's deliveries: a growing QUEUED or FAILED says the
  // server it talks to is down or refuses it (LAST ERROR says why).
  const Json reporters = statusResult.value("reporters", Json::array());
  if (reporters.is_array() && !reporters.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"REPORTER", "TYPE", "QUEUED", "SENT", "RETRIES", "FAILED", "DROPPED", "LAST ERROR"}};
    for (const auto& r : reporters)
      rows.push_back({cellText(r.value("name", Json())), cellText(r.value("type", Json())),
                      cellText(r.value("queued", Json(0))), cellText(r.value("sent", Json(0))),
                      cellText(r.value("retries", Json(0))), cellText(r.value("failed", Json(0))),
                      cellText(r.value("dropped", Json(0))), cellText(r.value("last_error", Json("")))});
    out += "\nReporters:\n" + formatTable(rows);
  }
  // What the retention janitor removed last (and when it runs next).
  if (const std::string r = formatRetention(statusResult.value("retention", Json())); !r.empty()) out += "\n" + r;
  // The master's database cannot be written (a full disk): said last, so
  // it is the line a user sees first at the prompt.
  if (auto st = statusResult.find("storage"); st != statusResult.end() && st->is_string() &&
                                             *st != "ok")
    out += "\nStorage: " + st->get<std::string>() + "\n";
  return out;
}

std::string formatBuildDetails(const Json& buildResult) {
  const Json build = buildResult.value("build", Json::object());
  std::string out = cellText(build.value("builder", Json("build"))) + " #" +
                    cellText(build.value("number", Json())) + ": " + displayResult(build);
  out += " on slave " + cellText(build.value("slave", Json()));
  out += ", started " + formatTimestamp(build.value("started_at", Json()));
  const Json now = buildResult.value("now", Json());
  if (build.value("finished", true))
    out += ", took " + formatDuration(build.value("started_at", Json()),
                                      build.value("finished_at", Json()));
  else if (const std::string elapsed = formatDuration(build.value("started_at", Json()), now);
           elapsed != "-")
    out += ", running for " + elapsed;
  out += "\n";
  if (auto t = build.find("text"); t != build.end() && !t->is_null() && cellText(*t) != "")
    out += "  " + cellText(*t) + "\n";
  out += formatTriggerLinks(build);
  out += formatArtifacts(build);
  std::vector<std::vector<std::string>> rows{{"STEP", "NAME", "RESULT", "DURATION", "TEXT"}};
  for (const auto& s : build.value("steps", Json::array())) {
    rows.push_back({cellText(s.value("number", Json())), cellText(s.value("name", Json())),
                    displayResult(s), durationCell(s, now),
                    s.contains("text") && !s["text"].is_null() ? cellText(s["text"]) : ""});
  }
  out += formatTable(rows);
  if (const Json step = build.value("current_step", Json()); step.is_object()) {
    out += "now: step " + cellText(step.value("number", Json())) + " '" +
           cellText(step.value("name", Json())) + "' (" + cellText(step.value("type", Json())) +
           ") " + cellText(step.value("state", Json()));
    const Json waiting = step.value("waiting_for", Json::array());
    if (waiting.is_array() && !waiting.empty()) {
      out += " for buildset" + std::string(waiting.size() == 1 ? " " : "s ");
      for (std::size_t i = 0; i < waiting.size(); ++i) out += (i ? ", " : "") + cellText(waiting[i]);
    }
    out += "\n";
  }
  if (const Json failure = build.value("failure", Json()); failure.is_object())
    out += "\n" + formatFailure(cellText(build.value("builder", Json("build"))) + " #" +
                                    cellText(build.value("number", Json())),
                                failure);
  return out;
}

int runStatus(const std::vector<std::string>& args, const ConnectionFlags& global,
              CliContext& ctx) {
  StatusRequest req = parseStatus(args);
  if (req.help) {
    printVerbHelp(*ctx.out, "status", kStatusSynopsis, kStatusDescription, statusOptions());
    return kExitOk;
  }
  Session session = openSession(req.flags, global, ctx);
  std::ostream& out = *ctx.out;
  if (!req.build) {
    Json params = Json::object();
    if (req.builder) params["builder"] = *req.builder;
    if (req.limit) params["limit"] = *req.limit;
    const Json result = session.sender->call("status", params);
    if (req.json)
      out << result.dump(2) << "\n";
    else
      out << formatBuildsTable(result);
    return kExitOk;
  }
  Json result = session.sender->call("build", Json{{"builder", *req.builder}, {"number", *req.build}});
  if (!result.contains("build") || !result["build"].is_object())
    throw ConnectError("malformed 'build' answer from the master: no build object");
  Json& build = result["build"];
  if (req.logs && build.contains("steps") && build["steps"].is_array()) {
    // Fetch every log's text; in --json mode it is added to the log object.
    for (auto& step : build["steps"]) {
      if (!step.contains("logs") || !step["logs"].is_array()) continue;
      for (auto& log : step["logs"]) {
        if (auto r = log.find("removed"); r != log.end() && r->is_object()) {
          log["text"] = "[" + r->value("text", std::string("removed")) + "]\n";
          continue;
        }
        // The first page only; `buildbot log` reads a whole log.
        const Json page = session.sender->call("log", Json{{"log_id", log.value("id", Json())}});
        std::string text;
        if (auto d = page.find("data"); d != page.end() && d->is_binary())
          text.assign(d->get_binary().begin(), d->get_binary().end());
        log["text"] = std::move(text);
        log["truncated"] = page.value("more", false);
      }
    }
  }
  if (req.json) {
    // Log bytes need not be UTF-8: replace what is not.
    out << result.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  if (!build.contains("builder")) build["builder"] = *req.builder;
  out << formatBuildDetails(result);
  if (req.logs) {
    for (const auto& step : build.value("steps", Json::array())) {
      for (const auto& log : step.value("logs", Json::array())) {
        out << "\n----- step " << cellText(step.value("number", Json())) << " "
            << cellText(step.value("name", Json())) << ", log " << cellText(log.value("name", Json()))
            << " -----\n";
        const std::string text = log.value("text", "");
        out << text;
        if (!text.empty() && text.back() != '\n') out << "\n";
        if (log.value("truncated", false)) out << "[log truncated; the master has more]\n";
      }
    }
  }
  return kExitOk;
}

}  // namespace bb::client
