#include "master/schedulers/fire_times.hpp"

#include <filesystem>
#include <memory>

#include "common/cron.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/nightly.hpp"
#include "master/schedulers/periodic.hpp"

namespace bb {

namespace {

std::string both(WallTime t, const std::string& tz) {
  const std::string utc = formatLocal(t, "UTC");
  const std::string utcShort = utc.substr(0, 19) + " UTC";  // without "(+00:00)"
  if (tz == "UTC") return utcShort;
  return formatLocal(t, tz) + " = " + utcShort;
}

}  // namespace

LastRunLookup lastRunsFromDatabase(const std::string& dbPath) {
  std::error_code ec;
  if (dbPath.empty() || !std::filesystem::is_regular_file(dbPath, ec)) return nullptr;
  auto db = std::make_shared<std::optional<db::Database>>();
  return [db, dbPath](const std::string& name) -> std::optional<WallTime> {
    try {
      if (!*db) db->emplace(dbPath);
      return PeriodicScheduler::storedLastRun(**db, name);
    } catch (const std::exception&) {
      return std::nullopt;  // the listing then says "no run recorded"
    }
  };
}

std::string describeNextFires(const std::vector<SchedulerEntry>& schedulers, WallTime from, int n,
                              const LastRunLookup& lastRun) {
  std::string body;
  for (const auto& s : schedulers) {
    if (s.type == "nightly") {
      const std::string tz = NightlyScheduler::timeZoneOf(s);
      body += "  nightly '" + s.name + "' (cron \"" + s.extra.value("cron", std::string()) +
              "\", " + tz + "):\n";
      try {
        for (WallTime t : NightlyScheduler::fireTimes(s, from, n)) body += "    " + both(t, tz) + "\n";
      } catch (const CronError& e) {
        body += "    never: " + std::string(e.what()) + "\n";
      }
    } else if (s.type == "periodic") {
      const auto interval = PeriodicScheduler::intervalOf(s);
      if (!interval) continue;  // checkconfig reported it
      const auto last = lastRun ? lastRun(s.name) : std::nullopt;
      body += "  periodic '" + s.name + "' (every " + std::to_string(interval->count()) + " s, " +
              (last ? "last run " + both(*last, "UTC") : std::string("no run recorded")) + "):\n";
      for (WallTime t : PeriodicScheduler::plannedRuns(*interval, last, from, n))
        body += "    " + both(t, "UTC") + (t == from ? " (at start)" : "") + "\n";
    }
  }
  if (body.empty()) return "";
  return "next " + std::to_string(n) + " fire time" + (n == 1 ? "" : "s") + " from " +
         both(from, "UTC") + ":\n" + body;
}

}  // namespace bb
