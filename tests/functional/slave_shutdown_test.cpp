// Graceful slave shutdown with real processes (issue #4): `buildslave stop
// --graceful` lets the slave's running build finish, the master starts no
// new build there, and the slave exits 0 without reconnecting.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// Slaves s1..sN on builder b, s1 with max_builds `s1Max`, the others 1.
// Its step waits for the file GATE-<slavename> under `gateDir`, so the
// test decides when a build on a given slave may end.
std::string slaveShutdownConfig(int port, int nSlaves, const std::string& gateDir, int s1Max = 1) {
  std::string y = "master: {name: drain, slave_port: " + std::to_string(port) +
                  ", database: \"sqlite:state.sqlite\"}\nslaves:\n";
  std::string names;
  for (int i = 1; i <= nSlaves; ++i) {
    y += "  - {name: s" + std::to_string(i) + ", password: " + q(verifier()) +
         ", max_builds: " + std::to_string(i == 1 ? s1Max : 1) + "}\n";
    names += (i > 1 ? ", s" : "s") + std::to_string(i);
  }
  const std::string gate = gateDir + "/GATE-%(prop:slavename)s";
  const std::string command = "echo waiting on %(prop:slavename)s; while [ ! -e " + gate +
                              " ]; do sleep 0.05; done; echo gate open; echo done on %(prop:slavename)s";
  return y + "users: [{name: alice, password: " + q(verifier()) + ", may: [force, status]}]\n" +
         "builders: [{name: b, slaves: [" + names + "], steps: [{shell: {name: work, command: " +
         q(command) + "}}]}]\nschedulers: [{name: force, type: force, builders: [b]}]\n";
}

// number, slave, finished, result of every build.
std::vector<std::vector<std::string>> slaveShutdownBuilds(const MasterProcess& m) {
  return sqlite(m.dbPath(), "SELECT number, slave, finished, result FROM builds ORDER BY number");
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// `buildslave stop DIR --graceful` in the background (it blocks until the
// slave exits); its output goes to DIR/graceful-stop.out.
struct GracefulStop {
  explicit GracefulStop(const SlaveProcess& s) : out(s.dir() + "/graceful-stop.out") {
    proc.start({BB_BIN_SLAVE, "stop", s.dir(), "--graceful"}, out);
  }
  std::string output() const { return readFile(out); }
  std::string out;
  ChildProcess proc;
};

TEST(SlaveShutdown, GracefulStopFinishesTheRunningBuildAndTakesNoNewOnes) {
  TempDir tmp;
  const std::string gates = tmp.sub("gates");
  writeFile(gates + "/README", "GATE-<slave> lets a build on that slave finish\n");
  MasterProcess master(tmp.sub("master"));
  master.create();
  // A has room for more builds: only draining keeps new ones off it.
  master.writeConfig(slaveShutdownConfig(master.port(), 2, gates, 3));
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess a(tmp.sub("s1"), master.port(), "s1", "pw");
  SlaveProcess b(tmp.sub("s2"), master.port(), "s2", "pw");
  a.create();
  b.create();

  // Build 1 runs on A (the only slave so far) and waits for its gate.
  a.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return !slaveShutdownBuilds(master).empty(); }, 30s)) << master.log();
  ASSERT_TRUE(a.waitForLog("command 1: starting shell")) << a.log();
  b.start();
  ASSERT_TRUE(master.waitForLog("slave s2 connected")) << master.log();

  GracefulStop stop(a);
  ASSERT_TRUE(master.waitForLog("slave s1 is draining")) << master.log();
  EXPECT_TRUE(a.running()) << "A waits for its build\n" << a.log();

  // Requests submitted while A drains all run on B, one after the other,
  // while A's build runs: B's first build waits for B's gate, so a
  // claimable A (2 free slots) would get the other two meanwhile.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(b.waitForLog("command 1: starting shell")) << b.log();
  ASSERT_TRUE(master.waitForLog("build b #2 started")) << master.log();
  writeFile(gates + "/GATE-s2", "");
  ASSERT_TRUE(waitFor([&] {
    auto r = sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1");
    return r[0][0] == "3";
  }, 60s)) << master.log();
  auto bs = slaveShutdownBuilds(master);
  ASSERT_EQ(bs.size(), 4u) << master.log();
  EXPECT_EQ(bs[0], (std::vector<std::string>{"1", "s1", "0", "0"})) << "A's build still runs";
  for (std::size_t i = 1; i < bs.size(); ++i) {
    EXPECT_EQ(bs[i][1], "s2") << "build " << bs[i][0] << " ran on the draining slave";
    EXPECT_EQ(bs[i][3], "0");
  }
  EXPECT_TRUE(a.running()) << a.log();
  EXPECT_TRUE(stop.proc.running()) << "stop --graceful waits for the slave\n" << stop.output();

  // Open A's gate: its build ends SUCCESS, not RETRY, with its whole log.
  writeFile(gates + "/GATE-s1", "");
  ASSERT_TRUE(waitFor([&] { return !a.running(); }, 60s)) << a.log();
  EXPECT_EQ(a.stop(), 0) << "A exits 0\n" << a.log();
  ASSERT_TRUE(waitFor([&] { return !stop.proc.running(); }, 30s)) << stop.output();
  EXPECT_EQ(stop.proc.exitStatus().value_or(-1), 0) << stop.output();
  EXPECT_NE(stop.output().find("stopped gracefully"), std::string::npos) << stop.output();

  bs = slaveShutdownBuilds(master);
  EXPECT_EQ(bs[0], (std::vector<std::string>{"1", "s1", "1", "0"})) << master.log();
  auto retried = sqlite(master.dbPath(), "SELECT count(*) FROM buildrequests WHERE retries > 0");
  EXPECT_EQ(retried[0][0], "0") << "nothing was retried";
  auto log = master.client({"status", "--builder", "b", "--build", "1", "--logs"});
  ASSERT_EQ(log.rc, 0) << log.describe();
  EXPECT_NE(log.out.find("waiting on s1"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("done on s1"), std::string::npos) << log.out;
  EXPECT_TRUE(master.waitForLog("slave s1 drained")) << master.log();
  EXPECT_TRUE(master.waitForLog("slave s1 disconnected")) << master.log();
  EXPECT_EQ(count(readFile(master.dir() + "/console.log"), "slave s1 connected"), 1u)
      << "A never reconnected\n" << master.log();
  // In the foreground the slave logs to its file and to the console: count one.
  EXPECT_EQ(count(readFile(a.dir() + "/console.log"), "connecting to master"), 1u) << a.log();

  // B keeps working.
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    auto r = slaveShutdownBuilds(master);
    return r.size() == 5 && r[4][2] == "1";
  }, 60s)) << master.log();
  EXPECT_EQ(slaveShutdownBuilds(master)[4], (std::vector<std::string>{"5", "s2", "1", "0"}));
}

TEST(SlaveShutdown, GracefulStopOfAnIdleSlaveExitsAtOnceAndARestartIsANormalSlave) {
  TempDir tmp;
  const std::string gates = tmp.sub("gates");
  writeFile(gates + "/GATE-s1", "");
  MasterProcess master(tmp.sub("master"));
  master.create();
  master.writeConfig(slaveShutdownConfig(master.port(), 1, gates));
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess a(tmp.sub("s1"), master.port(), "s1", "pw");
  a.create();
  a.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();

  // The timeout only turns a hang into a failure.
  auto r = run({BB_BIN_SLAVE, "stop", a.dir(), "--graceful"}, "", {}, 60s);
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.out.find("stopped gracefully"), std::string::npos) << r.describe();
  ASSERT_TRUE(waitFor([&] { return !a.running(); }, 10s)) << a.log();
  EXPECT_EQ(a.stop(), 0) << a.log();
  EXPECT_TRUE(master.waitForLog("slave s1 drained: no builds left")) << master.log();
  EXPECT_NE(a.log().find("no builds left; disconnecting"), std::string::npos) << a.log();

  // Started again, it is a fresh slave that gets builds.
  a.start();
  ASSERT_TRUE(waitFor([&] { return count(readFile(master.dir() + "/console.log"), "slave s1 connected") >= 2; }, 30s))
      << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    auto b = slaveShutdownBuilds(master);
    return b.size() == 1 && b[0][2] == "1";
  }, 60s)) << master.log();
  EXPECT_EQ(slaveShutdownBuilds(master)[0], (std::vector<std::string>{"1", "s1", "1", "0"}));
}

TEST(SlaveShutdown, GracefulStopWithoutAMasterExitsAtOnce) {
  TempDir tmp;
  // Nothing listens on this port: the slave keeps backing off.
  SlaveProcess a(tmp.sub("s1"), freePort(), "s1", "pw");
  a.create();
  a.start();
  ASSERT_TRUE(a.waitForLog("retrying in")) << a.log();
  auto r = run({BB_BIN_SLAVE, "stop", a.dir(), "--graceful"}, "", {}, 60s);
  EXPECT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return !a.running(); }, 10s)) << a.log();
  EXPECT_EQ(a.stop(), 0) << a.log();
  EXPECT_NE(a.log().find("not logged in to a master"), std::string::npos) << a.log();
}

TEST(SlaveShutdown, PlainStopDuringAGracefulStopKillsTheBuildAtOnce) {
  TempDir tmp;
  const std::string gates = tmp.sub("gates");
  writeFile(gates + "/README", "no gate: builds wait until killed\n");
  MasterProcess master(tmp.sub("master"));
  master.create();
  master.writeConfig(slaveShutdownConfig(master.port(), 1, gates));
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess a(tmp.sub("s1"), master.port(), "s1", "pw");
  a.create();
  a.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(a.waitForLog("command 1: starting shell")) << a.log();
  GracefulStop graceful(a);
  ASSERT_TRUE(master.waitForLog("slave s1 is draining")) << master.log();

  auto r = run({BB_BIN_SLAVE, "stop", a.dir()}, "", {}, 60s);
  EXPECT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return !a.running(); }, 30s)) << a.log();
  ASSERT_TRUE(waitFor([&] { return !graceful.proc.running(); }, 30s)) << graceful.output();
  EXPECT_EQ(graceful.proc.exitStatus().value_or(-1), 0) << "the slave it waited for is gone\n" << graceful.output();
  ASSERT_TRUE(waitFor([&] {
    auto b = slaveShutdownBuilds(master);
    return b.size() == 1 && b[0][2] == "1";
  }, 30s)) << master.log();
  EXPECT_EQ(slaveShutdownBuilds(master)[0][3], "5") << "the killed build is RETRY";
}

}  // namespace
}  // namespace bb::test

namespace bb::test {
namespace {

// `buildbot stop-slave NAME`: the same graceful stop, asked at the master
// from the command line (method stop_slave, its own right).
TEST(SlaveShutdown, StopSlaveVerbDrainsTheSlaveAndNeedsItsRight) {
  TempDir tmp;
  const std::string gates = tmp.sub("gates");
  writeFile(gates + "/README", "GATE-<slave> lets a build on that slave finish\n");
  MasterProcess master(tmp.sub("master"));
  master.create();
  std::string y = slaveShutdownConfig(master.port(), 1, gates);
  y.replace(y.find("users: ["), 8, "users: [{name: ops, password: " + q(verifier()) + ", may: [stop_slave]}, ");
  master.writeConfig(y);
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess s1(tmp.sub("s1"), master.port(), "s1", "pw");
  s1.create();
  s1.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(s1.waitForLog("command 1: starting shell")) << s1.log();

  // alice may force but not stop slaves.
  CmdResult r = master.client({"stop-slave", "s1"});
  EXPECT_NE(r.rc, 0) << r.describe();
  EXPECT_NE(r.err.find("add 'stop_slave' to its `may` list"), std::string::npos) << r.describe();
  master.setAuth("ops", "pw");
  r = master.client({"stop-slave"});
  EXPECT_NE(r.rc, 0) << r.describe();
  EXPECT_NE(r.err.find("give the name of one slave"), std::string::npos) << r.describe();
  r = master.client({"stop-slave", "nosuch"});
  EXPECT_NE(r.rc, 0) << r.describe();
  EXPECT_NE(r.err.find("no slave named 'nosuch'"), std::string::npos) << r.describe();
  EXPECT_TRUE(s1.running());

  r = master.client({"stop-slave", "s1", "--reason", "disk swap"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_EQ(r.out, "slave s1 is draining: 1 build still running, it stops when they end\n") << r.describe();
  ASSERT_TRUE(master.waitForLog("slave s1 is draining: stopped by ops: disk swap")) << master.log();
  EXPECT_TRUE(s1.running()) << "the running build must finish first";

  writeFile(gates + "/GATE-s1", "");
  ASSERT_TRUE(waitFor([&] { return !s1.running(); }, 30s)) << s1.log();
  EXPECT_EQ(s1.stop(), 0) << s1.log();
  EXPECT_EQ(slaveShutdownBuilds(master)[0], (std::vector<std::string>{"1", "s1", "1", "0"})) << master.log();
  EXPECT_NE(s1.log().find("stops this slave gracefully: stopped by ops: disk swap"), std::string::npos)
      << s1.log();
}

}  // namespace
}  // namespace bb::test
