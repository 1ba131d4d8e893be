// The stats page in a real browser (tests/functional/browser/browse.py,
// headless chromium): after a passed and a failed build, the front page
// links it, its three SVG charts render with a point per builder and
// week, and the pass-rate point sits at half height (1 of 2 passed).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

TEST(WebStatsPage, ChartsAndTableInABrowser) {
  TempDir tmp;
  const int web = freePort();
  MasterProcess master(tmp.sub("master"));
  SlaveProcess slave(tmp.sub("s1"), master.port(), "s1", "pw");
  const std::string v = makeVerifier("pw");
  const std::string marker = tmp.sub("fail-next");
  master.create();
  master.writeConfig(
      "master: {name: statspage, slave_port: " + std::to_string(master.port()) + ", web_port: " +
      std::to_string(web) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + "}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
      "builders:\n"
      "  - {name: b1, slaves: [s1], steps: [{shell: {name: check, command: \"test ! -e " + marker + "\"}}]}\n"
      "schedulers: [{name: force, type: force, builders: [b1]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_TRUE(master.waitForLog("web: serving on")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force", "--reason", "one", "--wait"}).rc, 0);
  writeFile(marker, "x");
  master.client({"force", "--scheduler", "force", "--reason", "two", "--wait"});  // fails: rc says so
  ASSERT_EQ(sqlite(master.dbPath(), "SELECT result FROM builds ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"0"}, {"2"}}));

  const std::string base = "http://127.0.0.1:" + std::to_string(web);
  const auto shots = std::filesystem::current_path() / "screenshots";
  std::filesystem::create_directories(shots);
  const Json steps = Json::array({
      {{"get", base + "/"}},
      {{"click", "main a[href='/stats']"}},
      {{"wait_css", "#chart-pass-rate svg circle"}},
      {{"js", "location.pathname"}, {"as", "path"}},
      {{"js", "document.querySelectorAll('svg.chart').length"}, {"as", "charts"}},
      {{"js", "document.querySelectorAll('#chart-duration circle').length"}, {"as", "points"}},
      {{"js", "Math.round(document.querySelector('#chart-duration svg').getBoundingClientRect().width)"},
       {"as", "width"}},
      {{"js", "document.querySelector('#chart-pass-rate circle title').textContent"}, {"as", "tip"}},
      {{"js", "document.querySelector('#chart-pass-rate circle').getAttribute('cy')"}, {"as", "cy"}},
      {{"text", "table.stats-table tbody"}, {"as", "table"}},
      {{"js", "window.__xss.length"}, {"as", "xss"}},
      {{"screenshot", (shots / "stats.png").string()}},
  });
  const std::string file = tmp.sub("scenario.json");
  writeFile(file, steps.dump());
  const CmdResult r = run({"/usr/bin/python3", std::string(BB_SOURCE_DIR) + "/tests/functional/browser/browse.py", file},
                          "", {}, 150s);
  Json out;
  ASSERT_NO_THROW(out = Json::parse(r.out)) << r.describe();
  ASSERT_TRUE(out["ok"].get<bool>()) << out.dump(2) << master.log();
  const Json& got = out["values"];
  EXPECT_EQ(got["path"], "/stats");
  EXPECT_EQ(got["charts"], 3);
  EXPECT_EQ(got["points"], 1) << "one builder, one week";
  EXPECT_GT(got["width"].get<int>(), 300) << "the chart is drawn at the page's width";
  EXPECT_NE(got["tip"].get<std::string>().find("b1, week of "), std::string::npos) << got["tip"];
  EXPECT_NE(got["tip"].get<std::string>().find("50.0 %"), std::string::npos) << got["tip"];
  // The plot runs from y=16 (100 %) to y=184 (0 %): 50 % is at 100.
  EXPECT_EQ(got["cy"], "100.0");
  EXPECT_NE(got["table"].get<std::string>().find("50.0 % (1/2)"), std::string::npos) << got["table"];
  EXPECT_EQ(got["xss"], 0);
}

}  // namespace
}  // namespace bb::test
