// The locks page with a real master and slave: while one build's step
// holds a master lock and another build's step waits for it, the page (and /api/v2/locks) show
// the holder and the waiter with what blocks it; once both have finished
// the lock shows free.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

TEST(WebLocksPage, ShowsTheHolderAndTheWaiterThenFree) {
  TempDir tmp;
  const int web = freePort();
  MasterProcess master(tmp.sub("master"));
  SlaveProcess slave(tmp.sub("s1"), master.port(), "s1", "pw");
  const std::string v = makeVerifier("pw");
  master.create();
  master.writeConfig(
      "master: {name: lk, slave_port: " + std::to_string(master.port()) + ", web_port: " + std::to_string(web) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + ", max_builds: 2}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [sendchange, status]}]\n"
      "locks: [{name: deploy, scope: master, max_count: 1}]\n"
      "builders:\n"
      "  - {name: b1, slaves: [s1], steps: [{shell: {name: s, command: \"sleep 3\", locks: [{lock: deploy, access: exclusive}]}}]}\n"
      "  - {name: b2, slaves: [s1], steps: [{shell: {name: s, command: \"sleep 3\", locks: [{lock: deploy, access: exclusive}]}}]}\n"
      "schedulers: [{name: all, type: single_branch, branch: main, builders: [b1, b2]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_TRUE(master.waitForLog("web: serving on")) << master.log();
  ASSERT_EQ(master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "r1"}).rc, 0);

  Json lock;
  ASSERT_TRUE(waitFor([&] {
    const HttpReply r = httpGet(web, "/api/v2/locks");
    if (r.status != 200) return false;
    lock = Json::parse(r.body)["locks"][0];
    return !lock["instances"].empty() && lock["instances"][0]["holders"].size() == 1 && lock["waiting"].size() == 1;
  }, 20s)) << lock.dump() << master.log();
  const std::string holder = lock["instances"][0]["holders"][0]["owner"].get<std::string>();
  const std::string waiter = lock["waiting"][0]["owner"].get<std::string>();
  EXPECT_NE(holder, waiter);

  const HttpReply page = httpGet(web, "/locks");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("id=\"lock-deploy\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("master lock, 1 at a time"), std::string::npos) << page.body;
  const auto holders = page.body.find("lock-holders"), waiters = page.body.find("lock-waiters");
  ASSERT_NE(waiters, std::string::npos) << page.body;
  EXPECT_NE(page.body.find(holder, holders), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(waiter, waiters), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("deploy (exclusive)", waiters), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("href=\"/locks\""), std::string::npos) << "the menu links the page";

  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT COUNT(*) FROM builds WHERE finished = 1")[0][0] == "2";
  }, 30s)) << master.log();
  // The build that waited shows in the lock-wait histogram.
  const HttpReply metrics = httpGet(web, "/metrics");
  EXPECT_NE(metrics.body.find("buildmaster_lock_wait_seconds_count 1\n"), std::string::npos) << metrics.body;
  const HttpReply after = httpGet(web, "/locks");
  EXPECT_NE(after.body.find(">free<"), std::string::npos) << after.body;
  EXPECT_EQ(after.body.find("lock-waiters"), std::string::npos) << after.body;
}

}  // namespace
}  // namespace bb::test
