// Faults with real processes: slaves and masters killed mid-build, a
// connection frozen by a proxy (half-open), duplicate logins, retry cap.
#include <gtest/gtest.h>

#include "tests/functional/frozen_slave.hpp"
#include "tests/functional/harness.hpp"
#include "tests/functional/proxy.hpp"

namespace bb::test {
namespace {

std::string faultsConfig(int port, int nSlaves, const std::string& command, const std::string& masterExtra = "") {
  std::string y = "master: {name: faults, slave_port: " + std::to_string(port) +
                  ", heartbeat_interval: 1, heartbeat_timeout: 3, ping_timeout: 2" + masterExtra + "}\nslaves:\n";
  std::string names;
  for (int i = 1; i <= nSlaves; ++i) {
    y += "  - {name: s" + std::to_string(i) + ", password: " + q(verifier()) + "}\n";
    names += (i > 1 ? ", s" : "s") + std::to_string(i);
  }
  return y + "users: [{name: alice, password: " + q(verifier()) + ", may: [force, status]}]\n" +
         "builders: [{name: b, slaves: [" + names + "], steps: [{shell: {name: work, command: " + q(command) +
         "}}]}]\nschedulers: [{name: force, type: force, builders: [b]}]\n";
}

std::vector<std::vector<std::string>> faultsBuilds(const MasterProcess& m) {
  return sqlite(m.dbPath(), "SELECT number, slave, finished, result FROM builds ORDER BY number");
}

TEST(Faults, SlaveLostMidBuildIsRetriedOnAnotherSlave) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string marker = tmp.sub("started-on");
  // The first attempt sleeps long; once a slave has run it, later attempts are quick.
  master.writeConfig(faultsConfig(master.port(), 2,
                            "if [ -e " + marker + " ]; then echo second attempt; else echo %(prop:slavename)s > " +
                                marker + "; sleep 30; fi"));
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess s1(tmp.sub("s1"), master.port(), "s1", "pw"), s2(tmp.sub("s2"), master.port(), "s2", "pw");
  s1.create();
  s2.create();
  s1.start();
  s2.start();
  ASSERT_TRUE(master.waitForLog("slave s2 connected") && master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return !readFile(marker).empty(); }, 30s)) << master.log();
  const std::string first = readFile(marker).substr(0, 2);
  (first == "s1" ? s1 : s2).kill();
  ASSERT_TRUE(waitFor([&] {
    auto b = faultsBuilds(master);
    return b.size() == 2 && b[1][2] == "1";
  }, 60s)) << master.log();
  auto b = faultsBuilds(master);
  EXPECT_EQ(b[0][1], first);
  EXPECT_EQ(b[0][3], "5") << "the lost build is RETRY";
  EXPECT_NE(b[1][1], first) << "the retry ran on the other slave";
  EXPECT_EQ(b[1][3], "0");
  auto req = sqlite(master.dbPath(), "SELECT complete, result, retries FROM buildrequests");
  EXPECT_EQ(req[0], (std::vector<std::string>{"1", "0", "1"}));
  auto logs = master.client({"status", "--builder", "b", "--build", "1", "--logs"});
  EXPECT_NE(logs.out.find("disconnected"), std::string::npos) << "what it logged so far is kept\n" << logs.out;
}

TEST(Faults, RetryCapFailsTheRequestWithException) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string marker = tmp.sub("attempts");
  master.writeConfig(faultsConfig(master.port(), 1, "echo x >> " + marker + "; sleep 30", ", max_retries: 1"));
  master.setAuth("alice", "pw");
  master.start();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    SlaveProcess s(tmp.sub("s1-" + std::to_string(attempt)), master.port(), "s1", "pw");
    s.create();
    s.start();
    ASSERT_TRUE(waitFor([&] { return readFile(marker).size() == 2u * attempt; }, 30s)) << master.log();
    s.kill();
    ASSERT_TRUE(waitFor([&] { return faultsBuilds(master).size() == static_cast<std::size_t>(attempt) &&
                                     faultsBuilds(master).back()[2] == "1"; }, 30s)) << master.log();
  }
  auto req = sqlite(master.dbPath(), "SELECT complete, result FROM buildrequests");
  EXPECT_EQ(req[0], (std::vector<std::string>{"1", "4"})) << "EXCEPTION after the cap";
  auto last = sqlite(master.dbPath(), "SELECT text FROM builds WHERE number=2");
  EXPECT_NE(last[0][0].find("gave up after 1 retries"), std::string::npos) << last[0][0];
}

TEST(Faults, MasterKilledMidBuildRecoversAndRunsTheRequestAgain) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string marker = tmp.sub("runs");
  master.writeConfig(faultsConfig(master.port(), 1,
                            "echo run >> " + marker + "; if [ $(wc -l < " + marker + ") -eq 1 ]; then sleep 30; fi"));
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess s(tmp.sub("s1"), master.port(), "s1", "pw");
  s.create();
  s.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);  // stays pending behind it
  ASSERT_TRUE(waitFor([&] { return !readFile(marker).empty(); }, 30s));
  master.kill();
  master.start();
  ASSERT_TRUE(waitFor([&] {
    auto r = sqlite(master.dbPath(), "SELECT count(*) FROM buildrequests WHERE complete=1");
    return r[0][0] == "2";
  }, 90s)) << master.log();
  auto b = faultsBuilds(master);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0][3], "5") << "the interrupted build is RETRY";
  EXPECT_EQ(b[1][3], "0");
  EXPECT_EQ(b[2][3], "0");
  auto steps = sqlite(master.dbPath(), "SELECT count(*) FROM steps WHERE finished=0");
  EXPECT_EQ(steps[0][0], "0");
  auto logs = sqlite(master.dbPath(), "SELECT count(*) FROM logs WHERE finished=0");
  EXPECT_EQ(logs[0][0], "0") << "its logs are closed";
  EXPECT_NE(master.log().find("recovered from an unclean stop"), std::string::npos);
}

TEST(Faults, HalfOpenConnectionIsDetectedAndADuplicateLoginReplacesIt) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  master.writeConfig(faultsConfig(master.port(), 1, "echo ok"));
  master.setAuth("alice", "pw");
  master.start();
  Proxy proxy(master.port());
  SlaveProcess viaProxy(tmp.sub("s1"), proxy.port(), "s1", "pw");
  viaProxy.create();
  viaProxy.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();

  // A second login while the first answers pings is refused.
  SlaveProcess dup(tmp.sub("dup"), master.port(), "s1", "pw");
  dup.create();
  dup.start();
  EXPECT_TRUE(master.waitForLog("answers pings")) << master.log();
  dup.kill();

  // Freeze the proxied connection: no FIN, no data. Heartbeats catch it.
  proxy.freeze();
  EXPECT_TRUE(master.waitForLog("heartbeat timeout", 20s)) << master.log();
  // And a slave logging in under that name now gets in.
  SlaveProcess direct(tmp.sub("direct"), master.port(), "s1", "pw");
  direct.create();
  direct.start();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    auto b = faultsBuilds(master);
    return !b.empty() && b[0][2] == "1";
  }, 60s)) << master.log();
  EXPECT_EQ(faultsBuilds(master)[0][3], "0");
}

TEST(Faults, FailedPingLeavesTheRequestQueuedForTheNextSlave) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  // ping_timeout 2 s is shorter than heartbeat_timeout 3 s: a frozen slave
  // fails the ping before it is declared dead.
  master.writeConfig(faultsConfig(master.port(), 2, "echo built on %(prop:slavename)s"));
  master.setAuth("alice", "pw");
  master.start();
  FrozenSlave frozen(master, tmp.sub("s1"), "s1");
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  EXPECT_TRUE(master.waitForLog("slave s1 did not answer the ping", 20s)) << master.log();
  EXPECT_TRUE(faultsBuilds(master).empty()) << "no build starts on a slave that fails its ping";
  auto pending = sqlite(master.dbPath(), "SELECT claimed, complete FROM buildrequests");
  EXPECT_EQ(pending[0], (std::vector<std::string>{"0", "0"})) << "the request waits, unclaimed";
  SlaveProcess healthy(tmp.sub("s2"), master.port(), "s2", "pw");
  healthy.create();
  healthy.start();
  ASSERT_TRUE(waitFor([&] {
    auto b = faultsBuilds(master);
    return !b.empty() && b[0][2] == "1";
  }, 60s)) << master.log();
  auto b = faultsBuilds(master);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0][1], "s2");
  EXPECT_EQ(b[0][3], "0");
}

TEST(Faults, AMasterStoppedWhileItPingsASlaveGivesTheClaimedRequestBack) {
  // The request is claimed before the ping; the frozen slave's ping would
  // time out only long after the master stopped. The claim must not
  // outlive the master (stopping gives it back, and so does the ping's
  // end when the connections close; neither may be lost).
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  master.writeConfig(
      "master: {name: faults, slave_port: " + std::to_string(master.port()) +
      ", heartbeat_interval: 1, heartbeat_timeout: 120, ping_timeout: 60}\n"
      "slaves: [{name: s1, password: " + q(verifier()) + "}]\n"
      "users: [{name: alice, password: " + q(verifier()) + ", may: [force, status]}]\n"
      "builders: [{name: b, slaves: [s1], steps: [{shell: {name: work, command: \"echo built\"}}]}]\n"
      "schedulers: [{name: force, type: force, builders: [b]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  FrozenSlave frozen(master, tmp.sub("s1"), "s1");
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT claimed FROM buildrequests")[0][0] == "1";
  }, 20s)) << master.log();
  EXPECT_EQ(master.stop(60s), 0) << master.log();
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT claimed, claimed_by IS NULL, complete FROM buildrequests")[0],
            (std::vector<std::string>{"0", "1", "0"}))
      << "back in the queue for another master or the next start\n" << master.log();
  EXPECT_TRUE(faultsBuilds(master).empty());
}

TEST(Faults, ASlaveBeingPingedIsNotClaimedByAnotherBuild) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  master.writeConfig(faultsConfig(master.port(), 1, "echo ok"));  // s1, max_builds 1
  master.setAuth("alice", "pw");
  master.start();
  FrozenSlave frozen(master, tmp.sub("s1"), "s1");
  // Two requests while s1 is being pinged for the first: if the pinged
  // slave were claimable, the second would ping it too.
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(master.waitForLog("slave s1 disconnected", 20s)) << master.log();
  const std::string log = readFile(master.dir() + "/buildmaster.log");  // not the console copy
  std::size_t pings = 0;
  for (auto at = log.find("did not answer the ping"); at != std::string::npos;
       at = log.find("did not answer the ping", at + 1))
    ++pings;
  EXPECT_EQ(pings, 1u) << log;
  EXPECT_TRUE(faultsBuilds(master).empty());
  auto pending = sqlite(master.dbPath(), "SELECT count(*) FROM buildrequests WHERE claimed=0 AND complete=0");
  EXPECT_EQ(pending[0][0], "2") << "both requests still wait";
}

}  // namespace
}  // namespace bb::test
