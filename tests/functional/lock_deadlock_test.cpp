// The classic lock cycle with real processes: builder a holds L1 for its
// whole build and wants L2 in a step, builder b holds L2 and wants L1.
// With two slaves and 20 builds of each queued at once, both would start
// together and each wait for the other's build lock for ever; the deadlock
// rule (master/locks/lock_admission.*) keeps the second from starting
// until the first is done, so all 40 complete.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

std::string builder(const std::string& name, const std::string& own, const std::string& other) {
  return "  - name: " + name + "\n    slaves: [s1, s2]\n    locks: [{lock: " + own +
         ", access: exclusive}]\n    steps:\n"
         "      - {shell: {name: first, command: \"sleep 0.1\"}}\n"
         "      - {shell: {name: cross, command: \"sleep 0.1\", locks: [{lock: " + other +
         ", access: exclusive}]}}\n";
}

TEST(LockDeadlock, CrossedBuildAndStepLocksAllComplete) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string v = makeVerifier("pw");
  master.writeConfig("master: {name: cross, slave_port: " + std::to_string(master.port()) + "}\n" +
                     "slaves: [{name: s1, password: " + q(v) + "}, {name: s2, password: " + q(v) + "}]\n" +
                     "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n" +
                     "locks: [{name: L1}, {name: L2}]\n" + "builders:\n" + builder("a", "L1", "L2") +
                     builder("b", "L2", "L1") +
                     "schedulers: [{name: force, type: force, builders: [a, b]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess s1(tmp.sub("s1"), master.port(), "s1", "pw"), s2(tmp.sub("s2"), master.port(), "s2", "pw");
  s1.create();
  s2.create();
  // Queue everything before any slave is there, so that the first two
  // builds are an a and a b offered two free slaves at once.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  s1.start();
  s2.start();
  auto finished = [&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1 AND result=0")[0][0];
  };
  ASSERT_TRUE(waitFor([&] { return finished() == "40"; }, 150s))
      << finished() << " of 40 finished\n" << master.log();
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT count(*) FROM buildsets WHERE complete=1")[0][0], "20");
}

}  // namespace
}  // namespace bb::test
