// What `buildbot status` says about builds that are not simply running or
// done: a build waiting for a step lock names the lock and its holder, and
// the builds of a request that gave up after its retries show the
// request's own result and reason, not only rows of "retry".
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"
#include "tests/functional/raw_peer.hpp"

namespace bb::test {
namespace {

TEST(StatusDisplay, ABuildWaitingForAStepLockSaysForWhatAndWho) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string marker = tmp.sub("holding");
  master.writeConfig(
      "master: {name: st, slave_port: " + std::to_string(master.port()) + "}\n" +
      "slaves: [{name: s1, password: " + q(verifier()) + "}, {name: s2, password: " + q(verifier()) + "}]\n" +
      "users: [{name: alice, password: " + q(verifier()) + ", may: [force, status]}]\n" +
      "locks: [{name: deploy}]\n" +
      "builders:\n"
      "  - {name: holder, slaves: [s1], steps: [{shell: {name: hold, command: \"touch " + marker +
      "; sleep 60\", locks: [{lock: deploy, access: exclusive}]}}]}\n"
      "  - {name: waiter, slaves: [s2], steps: [{shell: {name: wait, command: \"true\", locks: [{lock: "
      "deploy, access: exclusive}]}}]}\n"
      "schedulers: [{name: fh, type: force, builders: [holder]}, {name: fw, type: force, builders: [waiter]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess s1(tmp.sub("s1"), master.port(), "s1", "pw"), s2(tmp.sub("s2"), master.port(), "s2", "pw");
  s1.create();
  s2.create();
  s1.start();
  s2.start();
  ASSERT_EQ(master.client({"force", "--scheduler", "fh"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return fileExists(marker); }, 30s)) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "fw"}).rc, 0);
  CmdResult st;
  ASSERT_TRUE(waitFor([&] {
    st = master.client({"status"});
    return st.out.find("waiting for lock 'deploy'") != std::string::npos;
  }, 30s)) << st.describe() << master.log();
  EXPECT_NE(st.out.find("held by build holder #1"), std::string::npos) << st.out;
  auto detail = master.client({"status", "--builder", "waiter", "--build", "1"});
  EXPECT_NE(detail.out.find("waiting for lock 'deploy' (exclusive), held by build holder #1"), std::string::npos)
      << detail.describe();
  ASSERT_EQ(master.client({"stop-build", "holder", "1"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1")[0][0] == "2";
  }, 30s)) << master.log();
  st = master.client({"status"});
  EXPECT_EQ(st.out.find("waiting for lock"), std::string::npos) << "once it ran, it no longer waits\n" << st.out;
}

TEST(StatusDisplay, ARequestThatGaveUpShowsItsOwnResultAndReason) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  master.writeConfig(basicMasterYaml(master.port(), verifier(), verifier()));
  // basicMasterYaml has no max_retries: set it to 1.
  std::string cfg = readFile(master.dir() + "/master.yaml");
  cfg.replace(cfg.find("database:"), 0, "max_retries: 1, ");
  master.writeConfig(cfg);
  master.setAuth("alice", "pw");
  master.start();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    RawPeer slave(master.port());
    slave.login("slave", "s1", "pw");
    slave.send(MsgType::SlaveInfo, RawPeer::slaveInfo());
    ASSERT_TRUE(slave.waitFor(MsgType::RunCommand)) << master.log();
    // The slave vanishes mid-build: the build is retry.
  }
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT complete FROM buildrequests")[0][0] == "1";
  }, 30s)) << master.log();
  auto st = master.client({"status"});
  EXPECT_NE(st.out.find("retry; request 1 ended exception: gave up after 1 retries"), std::string::npos)
      << st.describe();
  auto detail = master.client({"status", "--builder", "b1", "--build", "2"});
  EXPECT_NE(detail.out.find("request 1 ended exception"), std::string::npos) << detail.describe();
}

}  // namespace
}  // namespace bb::test
