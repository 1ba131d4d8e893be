// The build statistics as JSON (stats_views.hpp).
#include "master/status/stats_views.hpp"

#include <ctime>
#include <map>

namespace bb {

namespace {

Json distributionView(const db::StatsDistribution& d) {
  return Json{{"count", d.count}, {"p50", d.p50}, {"p90", d.p90},
              {"mean", d.mean()}, {"max", d.max}, {"exact", d.exact}};
}

}  // namespace

std::string utcDate(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) return std::to_string(t);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Json statsWeekView(const db::StatsWeek& w) {
  return Json{{"week", w.week},
              {"week_start", utcDate(w.week)},
              {"builds", w.builds},
              {"counted", w.counted},
              {"passed", w.passed},
              {"pass_rate", w.counted ? Json(w.passRate()) : Json()},
              {"summarised", w.summarised},
              {"duration", distributionView(w.duration)},
              {"queue", distributionView(w.queue)},
              {"lock_wait_ms", distributionView(w.lockWaitMs)}};
}

Json statsView(const std::vector<db::StatsWeek>& weeks, std::int64_t since) {
  // weeklyStats() sorts by builder, step ("" first), week.
  Json builders = Json::array();
  std::map<std::string, std::size_t> stepIndex;
  for (const auto& w : weeks) {
    if (builders.empty() || builders.back()["name"] != w.builder) {
      builders.push_back(Json{{"name", w.builder}, {"weeks", Json::array()}, {"steps", Json::array()}});
      stepIndex.clear();
    }
    Json& b = builders.back();
    if (w.step.empty()) {
      b["weeks"].push_back(statsWeekView(w));
      continue;
    }
    auto [it, added] = stepIndex.emplace(w.step, b["steps"].size());
    if (added) b["steps"].push_back(Json{{"name", w.step}, {"weeks", Json::array()}});
    b["steps"][it->second]["weeks"].push_back(statsWeekView(w));
  }
  return Json{{"since", since}, {"percentile", "nearest-rank"}, {"builders", std::move(builders)}};
}

}  // namespace bb
