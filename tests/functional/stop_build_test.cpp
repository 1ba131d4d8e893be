// buildbot stop-build with real processes: a running build and a build
// waiting for a lock are stopped (CANCELLED); the waiting one releases
// nothing it did not hold.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

TEST(StopBuild, RunningAndLockWaitingBuildsEndCancelled) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  const std::string gate = tmp.sub("gate");
  master.create();
  master.writeConfig(
      "master: {name: stop, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + "}, {name: s2, password: " + q(v) + "}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
      "locks: [{name: deploy, scope: master, max_count: 1}]\n"
      "builders:\n"
      "  - {name: hold, slaves: [s1], steps: [{shell: {name: hold, locks: [{lock: deploy}],"
      " command: \"echo holding; while [ ! -f " + gate + " ]; do sleep 0.05; done\"}}]}\n"
      "  - {name: waiter, slaves: [s2], steps: [{shell: {name: use, locks: [{lock: deploy}],"
      " command: \"echo got the lock\"}}]}\n"
      "schedulers: [{name: force, type: force, builders: [hold, waiter]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess s1(tmp.sub("s1"), master.port(), "s1", "pw");
  SlaveProcess s2(tmp.sub("s2"), master.port(), "s2", "pw");
  s1.create();
  s1.start();
  s2.create();
  s2.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_TRUE(master.waitForLog("slave s2 connected")) << master.log();
  auto one = [&](const std::string& sql) { return sqlite(master.dbPath(), sql).at(0).at(0); };
  auto build = [&](const std::string& builder, int n, const std::string& col) {
    return one("SELECT " + col + " FROM builds WHERE builder='" + builder + "' AND number=" +
               std::to_string(n));
  };
  auto waitingForLock = [&](int n) {
    return waitFor([&] {
      auto r = sqlite(master.dbPath(), "SELECT json_extract(properties, '$.lock_status') FROM builds"
                                       " WHERE builder='waiter' AND number=" + std::to_string(n));
      return !r.empty() && r[0][0] != "NULL";
    }, 30s);
  };

  ASSERT_EQ(master.client({"force", "--scheduler", "force", "--builder", "hold"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return one("SELECT count(*) FROM steps") == "1"; }, 30s)) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force", "--builder", "waiter"}).rc, 0);
  ASSERT_TRUE(waitingForLock(1)) << master.log();

  auto r = master.client({"stop-build", "waiter", "1", "--reason", "not needed"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.out.find("build waiter #1 is stopping"), std::string::npos) << r.describe();
  ASSERT_TRUE(waitFor([&] { return build("waiter", 1, "finished") == "1"; }, 30s)) << master.log();
  EXPECT_EQ(build("waiter", 1, "result"), "6");  // CANCELLED
  EXPECT_NE(build("waiter", 1, "text").find("stopped by alice: not needed"), std::string::npos)
      << build("waiter", 1, "text");

  // The cancelled waiter released nothing: hold still has the lock, so a
  // second waiter waits too.
  ASSERT_EQ(master.client({"force", "--scheduler", "force", "--builder", "waiter"}).rc, 0);
  ASSERT_TRUE(waitingForLock(2)) << master.log();
  EXPECT_EQ(build("hold", 1, "finished"), "0");

  // Stopping the running build kills its command; the waiter then runs.
  r = master.client({"stop-build", "hold", "1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return build("waiter", 2, "finished") == "1"; }, 30s)) << master.log();
  EXPECT_EQ(build("hold", 1, "result"), "6");
  EXPECT_EQ(build("waiter", 2, "result"), "0");
  EXPECT_EQ(one("SELECT r.result FROM buildrequests r JOIN builds b ON b.request_id = r.id"
                " WHERE b.builder='hold'"), "6");

  r = master.client({"stop-build", "hold", "1"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_NE(r.err.find("is not running (cancelled)"), std::string::npos) << r.describe();
  r = master.client({"stop-build", "hold", "7"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_NE(r.err.find("has no build #7"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace bb::test
