// The client protocol's `stats` method (docs/protocol.md §7): the weekly
// build statistics, read from the database (master/db/stats_db.cpp).
#include <algorithm>
#include <chrono>

#include "master/db/database.hpp"
#include "master/status/rpc_handler.hpp"
#include "master/status/stats_views.hpp"

namespace bb {

Json RpcHandler::stats(const Json& p) {
  db::StatsFilter f;
  if (auto it = p.find("builder"); it != p.end() && !it->is_null()) {
    if (!it->is_string()) throw RpcError("bad_request", "builder must be a string");
    f.builder = it->get<std::string>();
  }
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  f.since = now - kStatsDefaultWeeks * 7 * 86400;
  if (auto it = p.find("since"); it != p.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
      throw RpcError("bad_request", "since must be a UNIX time in seconds (a whole number >= 0)");
    f.since = it->get<std::int64_t>();
  }
  // Per step only when asked: it reads every step row too (about 4 times
  // the work of the builds alone, docs/performance.md).
  f.steps = false;
  if (auto it = p.find("steps"); it != p.end() && !it->is_null()) {
    if (!it->is_boolean()) throw RpcError("bad_request", "steps must be true or false");
    f.steps = it->get<bool>();
  }
  if (!f.builder.empty() && !config_().findBuilder(f.builder)) {
    // A builder no longer configured still has its history.
    const auto known = db_.builderNames();
    if (std::find(known.begin(), known.end(), f.builder) == known.end())
      throw RpcError("not_found", "no builder named '" + f.builder + "'");
  }
  return statsView(db_.weeklyStats(f), db::statsWeekStart(f.since));
}

}  // namespace bb
