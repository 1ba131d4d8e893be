// A failed ping before a claim keeps the request at the FRONT of its
// builder's queue: with several requests queued behind it, the one whose
// ping failed is the first to run once a healthy slave is there.
#include <gtest/gtest.h>

#include "tests/functional/frozen_slave.hpp"
#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

TEST(PingOrder, TheRequestWhosePingFailedRunsBeforeTheOnesQueuedAfterIt) {
  TempDir tmp;
  const std::string v = makeVerifier("pw");
  MasterProcess master(tmp.sub("master"));
  master.create();
  // ping_timeout 2 s is shorter than heartbeat_timeout 3 s: a frozen slave
  // fails the ping before it is declared dead. One build at a time per slave.
  master.writeConfig(
      "master: {name: order, slave_port: " + std::to_string(master.port()) +
      ", heartbeat_interval: 1, heartbeat_timeout: 3, ping_timeout: 2}\n"
      "slaves:\n  - {name: s1, password: " + q(v) + ", max_builds: 1}\n"
      "  - {name: s2, password: " + q(v) + ", max_builds: 1}\n"
      "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
      "builders: [{name: b, slaves: [s1, s2], steps: [{shell: {name: work, command: \"echo %(prop:tag)s\"}}]}]\n"
      "schedulers: [{name: force, type: force, builders: [b]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  FrozenSlave frozen(master, tmp.sub("s1"), "s1");

  // r1 is pinged on s1 (its only free slave); r2 and r3 queue behind it
  // while s1's slot is reserved for that ping.
  std::vector<std::string> ids;
  for (const char* tag : {"r1", "r2", "r3"}) {
    auto r = master.client({"force", "--scheduler", "force", "--property", std::string("tag:") + tag});
    ASSERT_EQ(r.rc, 0) << r.describe();
  }
  ASSERT_TRUE(master.waitForLog("slave s1 did not answer the ping", 20s)) << master.log();
  auto pending = sqlite(master.dbPath(), "SELECT id, claimed, complete FROM buildrequests ORDER BY id");
  ASSERT_EQ(pending.size(), 3u);
  for (const auto& row : pending) EXPECT_EQ(row[1] + row[2], "00") << "request " << row[0] << " waits";
  EXPECT_TRUE(sqlite(master.dbPath(), "SELECT id FROM builds").empty());

  // A healthy slave with one slot takes them one at a time, in queue order.
  SlaveProcess healthy(tmp.sub("s2"), master.port(), "s2", "pw");
  healthy.create();
  healthy.start();
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1")[0][0] == "3";
  }, 60s)) << master.log();
  auto order = sqlite(master.dbPath(), "SELECT request_id, slave, result FROM builds ORDER BY id");
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], (std::vector<std::string>{pending[0][0], "s2", "0"}))
      << "the request whose ping failed runs first";
  EXPECT_EQ(order[1][0], pending[1][0]);
  EXPECT_EQ(order[2][0], pending[2][0]);
  // The first build's log is r1's: the request kept its own properties.
  auto log = master.client({"status", "--builder", "b", "--build", "1", "--logs"});
  EXPECT_NE(log.out.find("r1"), std::string::npos) << log.describe();
}

}  // namespace
}  // namespace bb::test
