#include "master/schedulers/fire_times.hpp"

#include <filesystem>
#include <memory>

#include "common/cron.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/periodic.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

std::string fireTimeText(WallTime t, const std::string& tz) {
  const std::string utc = formatLocal(t, "UTC");
  const std::string utcShort = utc.substr(0, 19) + " UTC";  // without "(+00:00)"
  if (tz == "UTC") return utcShort;
  return formatLocal(t, tz) + " = " + utcShort;
}

LastRunLookup lastRunsFromDatabase(const std::string& dbPath) {
  std::error_code ec;
  if (dbPath.empty()) return nullptr;
  if (!db::isServerDatabase(dbPath) && !std::filesystem::is_regular_file(dbPath, ec)) return nullptr;
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
    const SchedulerType* type = findSchedulerType(s.type);
    if (type && type->nextFires) body += type->nextFires(s, from, n, lastRun);
  }
  if (body.empty()) return "";
  return "next " + std::to_string(n) + " fire time" + (n == 1 ? "" : "s") + " from " +
         fireTimeText(from, "UTC") + ":\n" + body;
}

}  // namespace bb
