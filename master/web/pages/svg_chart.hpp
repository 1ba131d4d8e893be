#pragma once
// Line charts drawn by the master as inline SVG (the stats page): no
// script, no chart library, every label escaped.
#include <optional>
#include <string>
#include <vector>

namespace bb::web {

struct ChartSeries {
  std::string name;                        // the legend (a builder)
  std::vector<std::optional<double>> values;  // one per x label; nullopt: no point
};

struct LineChart {
  std::string title;                // aria-label and <title>
  std::vector<std::string> xLabels;  // the weeks, oldest first
  std::vector<ChartSeries> series;
  std::string unit;                 // "s" (shown as a duration) or "%"
  std::optional<double> yMax;       // fixed top (100 for a pass rate); else the data's
};

// An <svg> element (width 100 %, viewBox 640 x 240) with a y axis from 0,
// one polyline and dots (each with a <title> tooltip) per series, x labels
// thinned to fit, and a legend. A chart without points says so.
std::string renderLineChart(const LineChart& chart);

// The y-axis top for `max`: 1, 2 or 5 times a power of ten (>= max).
double niceCeiling(double max);

}  // namespace bb::web
