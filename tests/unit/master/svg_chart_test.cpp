// The stats page's SVG line charts: scale, points, escaping.
#include <gtest/gtest.h>

#include "master/web/pages/svg_chart.hpp"

namespace bb::web {
namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(SvgChart, NiceCeilings) {
  EXPECT_EQ(niceCeiling(0), 1);
  EXPECT_EQ(niceCeiling(0.7), 1);
  EXPECT_EQ(niceCeiling(1), 1);
  EXPECT_EQ(niceCeiling(1.5), 2);
  EXPECT_EQ(niceCeiling(300), 500);
  EXPECT_EQ(niceCeiling(501), 1000);
}

TEST(SvgChart, APointPerValueOnAScaleFromZero) {
  LineChart c{"Duration", {"2023-11-20", "2023-11-27", "2023-12-04"}, {}, "s", std::nullopt};
  c.series.push_back({"b1", {10.0, std::nullopt, 20.0}});
  c.series.push_back({"b2", {5.0, 5.0, 5.0}});
  const std::string svg = renderLineChart(c);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(count(svg, "<circle"), 5u) << "no point where b1 has no value";
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  // Top of the axis 20 s: b1's 20 is at the plot's top (y 16), x from 64 to 624.
  EXPECT_NE(svg.find("points=\"64.0,100.0 624.0,16.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>b1, week of 2023-12-04: 20 s</title>"), std::string::npos) << svg;
}

TEST(SvgChart, NamesAreEscapedAndAnEmptyChartSaysSo) {
  LineChart c{"<x>", {"w"}, {}, "%", 100.0};
  c.series.push_back({"<script>alert(1)</script>", {50.0}});
  const std::string svg = renderLineChart(c);
  EXPECT_EQ(svg.find("<script>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos) << svg;
  EXPECT_NE(svg.find("cy=\"100.0\""), std::string::npos) << "50 % of a 0..100 axis";
  LineChart empty{"none", {}, {}, "s", std::nullopt};
  EXPECT_NE(renderLineChart(empty).find("no finished builds"), std::string::npos);
}

}  // namespace
}  // namespace bb::web
