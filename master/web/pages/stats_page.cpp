// The stats page (/stats): charts of build duration, pass rate and queue
// time per builder by week, drawn as SVG by the master (svg_chart.hpp),
// and the figures as a table. Reads the `stats` method as the client does.
#include <cstdio>
#include <map>
#include <set>

#include "master/status/stats_views.hpp"
#include "master/web/pages/html_text.hpp"
#include "master/web/pages/pages.hpp"
#include "master/web/pages/svg_chart.hpp"

namespace bb::web {

namespace {

// DIST's p-figure as text, "~" in front when approximate; "-" for none.
std::string statsFigure(const Json& dist, const char* key, bool ms) {
  if (!dist.is_object() || num(dist, "count") == 0) return "-";
  const std::int64_t v = num(dist, key);
  const std::string text = ms ? (v < 1000 ? std::to_string(v) + " ms" : formatDuration(v / 1000))
                              : formatDuration(v);
  return dist.value("exact", true) ? text : "~" + text;
}

}  // namespace

std::string Pages::stats(const Site& site, const std::string& builder) {
  Json params{{"steps", false}};
  if (!builder.empty()) params["builder"] = builder;
  const Json r = read("stats", params);
  // Every week any builder has, oldest first: the charts' x axis.
  std::set<std::int64_t> weekSet;
  for (const auto& b : r["builders"])
    for (const auto& w : b["weeks"]) weekSet.insert(num(w, "week"));
  const std::vector<std::int64_t> weeks(weekSet.begin(), weekSet.end());
  std::map<std::int64_t, std::size_t> column;
  LineChart duration{"Build duration (p50) per builder by week", {}, {}, "s", std::nullopt};
  LineChart pass{"Pass rate per builder by week", {}, {}, "%", 100.0};
  LineChart queue{"Queue time (p50) per builder by week", {}, {}, "s", std::nullopt};
  for (std::int64_t w : weeks) {
    column[w] = duration.xLabels.size();
    for (LineChart* c : {&duration, &pass, &queue}) c->xLabels.push_back(utcDate(w));
  }
  Json rows = Json::array();
  for (const auto& b : r["builders"]) {
    const std::string name = str(b, "name");
    ChartSeries d{name, std::vector<std::optional<double>>(weeks.size())};
    ChartSeries p = d, q = d;
    for (const auto& w : b["weeks"]) {
      const std::size_t i = column[num(w, "week")];
      d.values[i] = static_cast<double>(num(w["duration"], "p50"));
      if (w["pass_rate"].is_number()) p.values[i] = w["pass_rate"].get<double>() * 100;
      if (num(w["queue"], "count") > 0) q.values[i] = static_cast<double>(num(w["queue"], "p50"));
      std::string rate = "-";
      if (w["pass_rate"].is_number()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1f %% (%lld/%lld)", w["pass_rate"].get<double>() * 100,
                      static_cast<long long>(num(w, "passed")), static_cast<long long>(num(w, "counted")));
        rate = buf;
      }
      rows.push_back(Json{{"builder", name},
                          {"builder_href", builderHref(site, name)},
                          {"week", str(w, "week_start")},
                          {"builds", num(w, "builds")},
                          {"pass_rate", rate},
                          {"p50", statsFigure(w["duration"], "p50", false)},
                          {"p90", statsFigure(w["duration"], "p90", false)},
                          {"queue_p50", statsFigure(w["queue"], "p50", false)},
                          {"queue_p90", statsFigure(w["queue"], "p90", false)},
                          {"lock_p50", statsFigure(w["lock_wait_ms"], "p50", true)},
                          {"lock_p90", statsFigure(w["lock_wait_ms"], "p90", true)}});
    }
    duration.series.push_back(std::move(d));
    pass.series.push_back(std::move(p));
    queue.series.push_back(std::move(q));
  }
  Json ctx{{"since", utcDate(num(r, "since"))},
           {"builder", builder.empty() ? Json(false) : Json(builder)},  // "" is true to mustache
           {"builder_href", builder.empty() ? std::string() : builderHref(site, builder)},
           {"duration_chart", renderLineChart(duration)},
           {"pass_chart", renderLineChart(pass)},
           {"queue_chart", renderLineChart(queue)},
           {"rows", std::move(rows)}};
  ctx["has_rows"] = !ctx["rows"].empty();
  return renderPage("stats", builder.empty() ? "Statistics" : "Statistics of " + builder, ctx, site);
}

}  // namespace bb::web
