#pragma once
// When the timed schedulers build next, as
// `buildmaster checkconfig` prints it: each time in the scheduler's own
// time zone and in UTC, so a daylight-saving change can be checked before
// it happens.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "config/master_config.hpp"

namespace bb {

// The last run recorded for periodic scheduler NAME, if known.
using LastRunLookup = std::function<std::optional<WallTime>(const std::string& name)>;

// Reads the last runs from the database at `dbPath` (only reads; opened on
// first use; a running master is fine). nullptr if there is no such file;
// a run that cannot be read counts as not recorded.
LastRunLookup lastRunsFromDatabase(const std::string& dbPath);

// `t` in time zone `tz` and in UTC: "2024-10-27 02:00:00 CEST (+02:00) =
// 2024-10-27 00:00:00 UTC" (only the latter for UTC).
std::string fireTimeText(WallTime t, const std::string& tz);

// For each scheduler in `schedulers` whose type lists fire times (its
// SchedulerType::nextFires), its next `n` fire times counted from `from`:
//   next 2 fire times from 2024-10-27 00:30:00 UTC:
//     nightly 'hourly' (cron "0 * * * *", Europe/Berlin):
//       2024-10-27 02:00:00 CEST (+02:00) = 2024-10-27 00:00:00 UTC
//       ...
// A periodic scheduler counts from its last run (`lastRun`), or builds at
// `from` as a master starting then would. "" if there is no such scheduler.
std::string describeNextFires(const std::vector<SchedulerEntry>& schedulers, WallTime from, int n,
                              const LastRunLookup& lastRun);

}  // namespace bb
