// A graceful stop of a slave from the web (POST /api/v2/workers/NAME
// {"method": "stop"}), with real processes: the slave's running build
// finishes, no new build goes to it, and the slave process exits 0.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

std::string slaveStopQ(const std::string& s) { return Json(s).dump(); }

class WebSlaveStop : public ::testing::Test {
 protected:
  // Slaves s1 (room for 3 builds: only draining keeps new builds off it)
  // and s2; the step waits for GATE-<slave> under gates.
  void start() {
    writeFile(gates + "/README", "GATE-<slave> lets a build on that slave finish\n");
    const std::string gate = gates + "/GATE-%(prop:slavename)s";
    const std::string command = "echo waiting on %(prop:slavename)s; while [ ! -e " + gate +
                                " ]; do sleep 0.05; done; echo done on %(prop:slavename)s";
    master.create();
    master.writeConfig(
        "master: {name: stop, slave_port: " + std::to_string(master.port()) + ", web_port: " +
        std::to_string(web) + ", url: \"http://127.0.0.1:" + std::to_string(web) + "/\"}\n"
        "slaves:\n  - {name: s1, password: " + slaveStopQ(v) + ", max_builds: 3}\n"
        "  - {name: s2, password: " + slaveStopQ(v) + "}\n"
        "users:\n"
        "  - {name: alice, password: " + slaveStopQ(v) + ", may: [force, status, stop_slave]}\n"
        "  - {name: bob, password: " + slaveStopQ(v) + ", may: [force, status]}\n"
        "builders: [{name: b, slaves: [s1, s2], steps: [{shell: {name: work, command: " + slaveStopQ(command) + "}}]}]\n"
        "schedulers: [{name: force, type: force, builders: [b]}]\n");
    master.setAuth("alice", "pw");
    master.start();
    ASSERT_TRUE(master.waitForLog("web: serving on")) << master.log();
  }
  HttpReply post(const std::string& path, const Json& body, const std::string& user) {
    HttpOptions o;
    o.body = body.dump();
    o.headers = {{"Content-Type", "application/json"}};
    o.user = user;
    o.password = "pw";
    return httpRequest(web, "POST", path, o);
  }
  std::string workerState(const std::string& name) {
    const HttpReply r = httpGet(web, "/api/v2/workers/" + name);
    return r.status == 200 ? Json::parse(r.body)["workers"][0].value("state", "") : "?";
  }
  // number, slave, finished, result of every build.
  std::vector<std::vector<std::string>> builds() {
    return sqlite(master.dbPath(), "SELECT number, slave, finished, result FROM builds ORDER BY number");
  }

  TempDir tmp;
  std::string gates = tmp.sub("gates");
  std::string v = makeVerifier("pw");
  int web = freePort();
  MasterProcess master{tmp.sub("master")};
  SlaveProcess s1{tmp.sub("s1"), master.port(), "s1", "pw"};
  SlaveProcess s2{tmp.sub("s2"), master.port(), "s2", "pw"};
};

TEST_F(WebSlaveStop, TheRunningBuildFinishesNoNewBuildGoesThereAndTheSlaveExitsZero) {
  start();
  s1.create();
  s1.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(s1.waitForLog("command 1: starting shell")) << s1.log();
  s2.create();
  s2.start();
  ASSERT_TRUE(master.waitForLog("slave s2 connected")) << master.log();

  // Refusals: without the right (403, even for a slave that exists), an
  // unknown slave (404), a method that is not served (400).
  const Json stop{{"method", "stop"}, {"params", {{"reason", "maintenance"}}}};
  HttpReply r = post("/api/v2/workers/s1", stop, "bob");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("stop_slave"), std::string::npos) << r.body;
  r = post("/api/v2/workers/nosuch", stop, "alice");
  EXPECT_EQ(r.status, 404) << r.body;
  r = post("/api/v2/workers/s1", Json{{"method", "kill"}}, "alice");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(workerState("s1"), "connected");

  r = post("/api/v2/workers/s1", stop, "alice");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json res = Json::parse(r.body)["result"];
  EXPECT_EQ(res["state"], "draining") << r.body;
  EXPECT_EQ(res["builds"], 1) << r.body;
  EXPECT_EQ(workerState("s1"), "draining");
  ASSERT_TRUE(master.waitForLog("slave s1 is draining: stopped by alice: maintenance")) << master.log();

  // New requests all go to s2, though s1 has two free slots.
  writeFile(gates + "/GATE-s2", "");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished = 1")[0][0] == "2";
  }, 30s)) << master.log();
  auto bs = builds();
  ASSERT_EQ(bs.size(), 3u) << master.log();
  EXPECT_EQ(bs[0], (std::vector<std::string>{"1", "s1", "0", "0"})) << "s1's build still runs";
  EXPECT_EQ(bs[1][1], "s2");
  EXPECT_EQ(bs[2][1], "s2");
  EXPECT_TRUE(s1.running()) << s1.log();

  // s1's build ends SUCCESS; then it is told ShutdownReady and exits 0
  // without reconnecting.
  writeFile(gates + "/GATE-s1", "");
  ASSERT_TRUE(waitFor([&] { return !s1.running(); }, 30s)) << s1.log();
  EXPECT_EQ(s1.stop(), 0) << s1.log();
  EXPECT_EQ(builds()[0], (std::vector<std::string>{"1", "s1", "1", "0"})) << master.log();
  EXPECT_NE(s1.log().find("stops this slave gracefully: stopped by alice: maintenance"), std::string::npos)
      << s1.log();
  EXPECT_TRUE(master.waitForLog("slave s1 drained")) << master.log();
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT count(*) FROM buildrequests WHERE retries > 0")[0][0], "0");
  ASSERT_TRUE(waitFor([&] { return workerState("s1") == "offline"; }, 10s));
  // Stopping a slave that is not connected is refused by its state.
  r = post("/api/v2/workers/s1", stop, "alice");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(workerState("s2"), "connected");
}

}  // namespace
}  // namespace bb::test
