#include "client/stats_command.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <ostream>

#include "client/client_error.hpp"
#include "client/status_format.hpp"

namespace bb::client {

namespace {

const char* kStatsSynopsis = "[--builder B] [--since YYYY-MM-DD] [--steps] [--json]";
const char* kStatsDescription =
    "Show build statistics by week (weeks start on Monday, UTC): builds, pass rate\n"
    "(success and warnings among the builds that were not skipped, retried or\n"
    "cancelled), p50/p90 build durations, queue time (request submitted to build\n"
    "started) and lock waits, per builder, and per step with --steps.\n"
    "Percentiles are nearest-rank; '~' marks a figure that includes builds that\n"
    "`buildmaster cleanupdb` summarised (within 3 %). Without --since, the last 12\n"
    "weeks. Needs 'status' in the user's 'may' list.";

po::options_description statsOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()("builder", po::value<std::string>()->value_name("B"), "only builder B")(
      "since", po::value<std::string>()->value_name("YYYY-MM-DD"),
      "from the week of this date (UTC)")("steps", "also a row per step and week")(
      "json", "print the master's answer as JSON");
  return desc;
}

// Seconds as "45s", "3m 05s", "2h 01m".
std::string seconds(const Json& v) {
  if (!v.is_number()) return "-";
  return formatDuration(Json(0), v);
}

std::string millis(const Json& v) {
  if (!v.is_number()) return "-";
  const double ms = v.get<double>();
  if (ms < 1000) return std::to_string(static_cast<long long>(std::llround(ms))) + "ms";
  return formatDuration(Json(0), Json(ms / 1000.0));
}

// DIST's p50 or p90, '~' in front when it is approximate.
std::string figure(const Json& dist, const char* key, std::string (*fmt)(const Json&)) {
  if (!dist.is_object() || dist.value("count", 0) == 0) return "-";
  const std::string text = fmt(dist.value(key, Json()));
  return dist.value("exact", true) ? text : "~" + text;
}

std::string passRate(const Json& week) {
  const Json& r = week.contains("pass_rate") ? week["pass_rate"] : Json();
  if (!r.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f%% (%lld/%lld)", r.get<double>() * 100,
                static_cast<long long>(week.value("passed", 0)),
                static_cast<long long>(week.value("counted", 0)));
  return buf;
}

void addRows(std::vector<std::vector<std::string>>& rows, const std::string& builder,
             const std::string& step, const Json& weeks) {
  for (const auto& w : weeks) {
    const Json& d = w.contains("duration") ? w["duration"] : Json();
    const Json& q = w.contains("queue") ? w["queue"] : Json();
    const Json& l = w.contains("lock_wait_ms") ? w["lock_wait_ms"] : Json();
    rows.push_back({builder, step, cellText(w.value("week_start", Json())), cellText(w.value("builds", Json())),
                    passRate(w), figure(d, "p50", seconds), figure(d, "p90", seconds),
                    figure(q, "p50", seconds), figure(q, "p90", seconds), figure(l, "p50", millis),
                    figure(l, "p90", millis)});
  }
}

}  // namespace

std::optional<std::int64_t> parseStatsDate(const std::string& date) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (date.size() != 10 || std::sscanf(date.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return std::nullopt;
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  const std::time_t t = timegm(&tm);
  // timegm normalises 2023-02-30 to March: not a real date.
  std::tm back{};
  if (t < 0 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != m - 1) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

std::string formatStats(const Json& result) {
  std::vector<std::vector<std::string>> rows{{"BUILDER", "STEP", "WEEK", "BUILDS", "PASS", "P50",
                                              "P90", "QUEUE P50", "QUEUE P90", "LOCK P50",
                                              "LOCK P90"}};
  for (const auto& b : result.value("builders", Json::array())) {
    const std::string name = cellText(b.value("name", Json()));
    addRows(rows, name, "-", b.value("weeks", Json::array()));
    for (const auto& s : b.value("steps", Json::array()))
      addRows(rows, name, cellText(s.value("name", Json())), s.value("weeks", Json::array()));
  }
  if (rows.size() == 1) {
    const Json since = result.value("since", Json());
    std::string date = cellText(since);
    if (since.is_number_integer()) {
      const std::time_t t = since.get<std::time_t>();
      std::tm tm{};
      char buf[16];
      if (gmtime_r(&t, &tm) && std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm)) date = buf;
    }
    return "no finished builds since the week of " + date + "\n";
  }
  return formatTable(rows);
}

int runStats(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx) {
  const po::variables_map vm = parseVerbArgs("stats", args, statsOptions());
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "stats", kStatsSynopsis, kStatsDescription, statsOptions());
    return kExitOk;
  }
  Json params{{"steps", vm.count("steps") > 0}};
  if (vm.count("builder")) params["builder"] = vm["builder"].as<std::string>();
  if (vm.count("since")) {
    const std::string date = vm["since"].as<std::string>();
    const auto t = parseStatsDate(date);
    if (!t) throw UsageError("buildbot stats: --since wants a date as YYYY-MM-DD, got '" + date + "'");
    params["since"] = *t;
  }
  Session session = openSession(connectionFlags(vm), global, ctx);
  const Json result = session.sender->call("stats", params);
  if (vm.count("json")) *ctx.out << result.dump(2) << "\n";
  else *ctx.out << formatStats(result);
  return kExitOk;
}

}  // namespace bb::client
