// Build statistics with a real master and slave: two builds contend for a
// lock, so one waits; the lock wait is recorded per build and per step,
// and `buildbot stats`, GET /api/v2/stats and the /stats page show the
// week's pass rate, durations and lock waits. A running build then has an
// estimated time left from the median of the builds before it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

const Json* builderOf(const Json& stats, const std::string& name) {
  for (const auto& b : stats["builders"])
    if (b["name"] == name) return &b;
  return nullptr;
}

TEST(Stats, LockWaitsPassRatesAndTimeLeftThroughClientRestAndPage) {
  TempDir tmp;
  const int web = freePort();
  MasterProcess master(tmp.sub("master"));
  SlaveProcess slave(tmp.sub("s1"), master.port(), "s1", "pw");
  const std::string v = makeVerifier("pw");
  master.create();
  master.writeConfig(
      "master: {name: st, slave_port: " + std::to_string(master.port()) + ", web_port: " + std::to_string(web) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + ", max_builds: 2}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [sendchange, status]}]\n"
      "locks: [{name: deploy, scope: master, max_count: 1}]\n"
      "builders:\n"
      "  - {name: b1, slaves: [s1], steps: [{shell: {name: deploy, command: \"sleep 1\", locks: [{lock: deploy, access: exclusive}]}},\n"
      "                                      {shell: {name: check, command: \"sleep 1\"}}]}\n"
      "  - {name: b2, slaves: [s1], steps: [{shell: {name: deploy, command: \"sleep 1\", locks: [{lock: deploy, access: exclusive}]}}]}\n"
      "schedulers: [{name: all, type: single_branch, branch: main, builders: [b1, b2]},\n"
      "             {name: one, type: single_branch, branch: solo, builders: [b1]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_TRUE(master.waitForLog("web: serving on")) << master.log();
  ASSERT_EQ(master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "r1"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT COUNT(*) FROM builds WHERE finished = 1")[0][0] == "2";
  }, 30s)) << master.log();

  // One of the two waited about a second for the lock: recorded on its
  // build and on its deploy step.
  const auto waits = sqlite(master.dbPath(),
                            "SELECT b.builder, b.lock_wait_ms, s.lock_wait_ms FROM builds b JOIN steps s"
                            " ON s.build_id = b.id AND s.name = 'deploy' ORDER BY b.lock_wait_ms DESC");
  ASSERT_EQ(waits.size(), 2u);
  const std::string waiter = waits[0][0];
  EXPECT_GE(std::stoll(waits[0][1]), 500) << "the waiting build's lock wait";
  EXPECT_EQ(waits[0][1], waits[0][2]) << "all of it was its deploy step's";
  EXPECT_EQ(waits[1][1], "0");

  // The client's JSON: a week per builder, everything passed.
  CmdResult r = master.client({"stats", "--json", "--steps"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  const Json stats = Json::parse(r.out);
  EXPECT_EQ(stats["percentile"], "nearest-rank");
  for (const char* name : {"b1", "b2"}) {
    const Json* b = builderOf(stats, name);
    ASSERT_NE(b, nullptr) << r.out;
    ASSERT_EQ((*b)["weeks"].size(), 1u) << r.out;
    const Json& w = (*b)["weeks"][0];
    EXPECT_EQ(w["builds"], 1);
    EXPECT_EQ(w["pass_rate"], 1.0);
    EXPECT_EQ(w["queue"]["count"], 1);
    EXPECT_TRUE(w["duration"]["exact"].get<bool>());
    EXPECT_EQ(w["lock_wait_ms"]["max"].get<std::int64_t>(), name == waiter ? std::stoll(waits[0][1]) : 0) << r.out;
  }
  const Json* b1 = builderOf(stats, "b1");
  ASSERT_EQ((*b1)["steps"].size(), 2u) << r.out;
  EXPECT_EQ((*b1)["steps"][0]["name"], "check");  // by name
  EXPECT_GE((*b1)["weeks"][0]["duration"]["p50"].get<int>(), 2) << "two one-second steps";

  // The table.
  r = master.client({"stats", "--builder", "b1", "--steps"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "BUILDER")) << r.out;
  EXPECT_TRUE(contains(r.out, "QUEUE P50")) << r.out;
  EXPECT_TRUE(contains(r.out, "100.0% (1/1)")) << r.out;
  EXPECT_TRUE(contains(r.out, "deploy")) << r.out;
  EXPECT_FALSE(contains(r.out, "b2")) << r.out;
  // Bad input: a clear error each.
  r = master.client({"stats", "--since", "2024-02-30"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "YYYY-MM-DD")) << r.describe();
  r = master.client({"stats", "--builder", "nope"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_TRUE(contains(r.err, "no builder named 'nope'")) << r.describe();
  // A `since` after the builds: nothing.
  r = master.client({"stats", "--since", "2099-01-01"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "no finished builds")) << r.out;

  // REST: the same figures.
  HttpReply h = httpGet(web, "/api/v2/stats");
  ASSERT_EQ(h.status, 200) << h.body;
  const Json rest = Json::parse(h.body);
  ASSERT_NE(builderOf(rest, "b2"), nullptr) << h.body;
  EXPECT_EQ((*builderOf(rest, "b2"))["weeks"], (*builderOf(stats, "b2"))["weeks"]);
  EXPECT_TRUE((*builderOf(rest, "b1"))["steps"].empty()) << "per step only when asked";
  h = httpGet(web, "/api/v2/builders/b1/stats?steps=true");
  ASSERT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(Json::parse(h.body)["builders"].size(), 1u);
  EXPECT_EQ(Json::parse(h.body)["builders"][0]["steps"], (*b1)["steps"]) << h.body;
  EXPECT_EQ(httpGet(web, "/api/v2/stats?since=yesterday").status, 400);
  EXPECT_EQ(httpGet(web, "/api/v2/builders/nope/stats").status, 404);

  // The page: three SVG charts with a series per builder, and the table;
  // the front page links it.
  h = httpGet(web, "/stats");
  ASSERT_EQ(h.status, 200) << h.body;
  std::size_t svgs = 0;
  for (auto at = h.body.find("<svg"); at != std::string::npos; at = h.body.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 3u) << h.body;
  EXPECT_TRUE(contains(h.body, "data-series=\"b1\"")) << h.body;
  EXPECT_TRUE(contains(h.body, "data-series=\"b2\"")) << h.body;
  EXPECT_TRUE(contains(h.body, "100.0 % (1/1)")) << h.body;
  EXPECT_TRUE(contains(httpGet(web, "/").body, "href=\"/stats\""));

  // A running b1 build: its estimate is the median of b1's passed builds.
  ASSERT_EQ(master.client({"sendchange", "--who", "dev", "--branch", "solo", "--revision", "r2"}).rc, 0);
  Json running;
  ASSERT_TRUE(waitFor([&] {
    const HttpReply b = httpGet(web, "/api/v2/builders/b1/builds/2");
    if (b.status != 200) return false;
    running = Json::parse(b.body)["builds"][0];
    return running["finished"] == false;
  }, 20s)) << master.log();
  ASSERT_TRUE(running.contains("eta_seconds")) << running.dump();
  EXPECT_EQ(running["estimated_duration"], (*b1)["weeks"][0]["duration"]["p50"]) << running.dump();
  EXPECT_LE(running["eta_seconds"].get<int>(), running["estimated_duration"].get<int>());
  const HttpReply page = httpGet(web, "/builders/b1/builds/2");
  EXPECT_TRUE(contains(page.body, " left") || contains(page.body, "longer than usual")) << page.body;
}

}  // namespace
}  // namespace bb::test
