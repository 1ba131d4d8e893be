// Inline SVG line charts (svg_chart.hpp).
#include "master/web/pages/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "master/web/http_message.hpp"
#include "master/web/pages/html_text.hpp"

namespace bb::web {

namespace {

constexpr double kWidth = 640, kHeight = 240;
constexpr double kLeft = 64, kRight = 16, kTop = 16, kBottom = 56;

// Colour-blind-safe palette (Okabe-Ito); series beyond it repeat.
constexpr const char* kChartColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                         "#E69F00", "#56B4E9", "#000000", "#F0E442"};

std::string fmtNum(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string chartValue(double v, const std::string& unit) {
  if (unit == "%") {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %%", v);
    return buf;
  }
  if (unit == "s") {
    if (v < 60 && v != std::round(v)) {  // an axis tick between whole seconds
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f s", v);
      return buf;
    }
    return formatDuration(static_cast<std::int64_t>(std::llround(v)));
  }
  return fmtNum(v) + unit;
}

}  // namespace

double niceCeiling(double max) {
  if (!(max > 0) || !std::isfinite(max)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(max)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= max) return m * p;
  return 10 * p;
}

std::string renderLineChart(const LineChart& c) {
  const std::string title = htmlEscape(c.title);
  std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 640 240\""
                    " width=\"100%\" role=\"img\" aria-label=\"" + title + "\"><title>" + title + "</title>";
  double max = 0;
  bool any = false;
  for (const auto& s : c.series)
    for (const auto& v : s.values)
      if (v) {
        max = std::max(max, *v);
        any = true;
      }
  if (!any) return out + "<text x=\"320\" y=\"120\" text-anchor=\"middle\">no finished builds</text></svg>";
  const double top = c.yMax ? *c.yMax : niceCeiling(max);
  const double plotW = kWidth - kLeft - kRight, plotH = kHeight - kTop - kBottom;
  const std::size_t n = c.xLabels.size();
  auto x = [&](std::size_t i) { return kLeft + (n > 1 ? plotW * static_cast<double>(i) / static_cast<double>(n - 1) : plotW / 2); };
  auto y = [&](double v) { return kTop + plotH - plotH * std::clamp(v / top, 0.0, 1.0); };
  // Axes, with grid lines at 0, 1/2 and the top.
  for (double f : {0.0, 0.5, 1.0}) {
    const std::string yy = fmtNum(y(top * f));
    out += "<line class=\"grid\" x1=\"" + fmtNum(kLeft) + "\" x2=\"" + fmtNum(kWidth - kRight) + "\" y1=\"" + yy +
           "\" y2=\"" + yy + "\" stroke=\"#ccc\"/><text x=\"" + fmtNum(kLeft - 4) + "\" y=\"" + yy +
           "\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"11\">" +
           htmlEscape(chartValue(top * f, c.unit)) + "</text>";
  }
  const std::size_t every = std::max<std::size_t>(1, (n + 5) / 6);
  for (std::size_t i = 0; i < n; i += every)
    out += "<text x=\"" + fmtNum(x(i)) + "\" y=\"" + fmtNum(kHeight - kBottom + 16) +
           "\" text-anchor=\"middle\" font-size=\"11\">" + htmlEscape(c.xLabels[i]) + "</text>";
  double legendX = kLeft;
  for (std::size_t si = 0; si < c.series.size(); ++si) {
    const auto& s = c.series[si];
    const char* colour = kChartColours[si % std::size(kChartColours)];
    std::string points, dots;
    for (std::size_t i = 0; i < s.values.size() && i < n; ++i) {
      if (!s.values[i]) continue;
      const std::string px = fmtNum(x(i)), py = fmtNum(y(*s.values[i]));
      points += (points.empty() ? "" : " ") + px + "," + py;
      dots += "<circle cx=\"" + px + "\" cy=\"" + py + "\" r=\"3\" fill=\"" + colour + "\"><title>" +
              htmlEscape(s.name + ", week of " + c.xLabels[i] + ": " + chartValue(*s.values[i], c.unit)) +
              "</title></circle>";
    }
    out += "<g class=\"series\" data-series=\"" + htmlEscape(s.name) + "\">";
    if (!points.empty())
      out += "<polyline fill=\"none\" stroke=\"" + std::string(colour) + "\" stroke-width=\"2\" points=\"" + points + "\"/>";
    out += dots + "</g>";
    out += "<rect x=\"" + fmtNum(legendX) + "\" y=\"" + fmtNum(kHeight - 20) + "\" width=\"10\" height=\"10\" fill=\"" +
           colour + "\"/><text x=\"" + fmtNum(legendX + 14) + "\" y=\"" + fmtNum(kHeight - 11) +
           "\" font-size=\"11\">" + htmlEscape(s.name) + "</text>";
    legendX += 24 + 7 * static_cast<double>(std::min<std::size_t>(s.name.size(), 30));
  }
  return out + "</svg>";
}

}  // namespace bb::web
