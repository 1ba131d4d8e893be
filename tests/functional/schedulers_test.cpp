// Schedulers with real processes.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

std::string q(const std::string& s) { return "\"" + s + "\""; }

TEST(Schedulers, DependentBuildRunsOnlyAfterTheQuickOneSucceeds) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  master.writeConfig(
      "master: {name: dep, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + ", max_builds: 2}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [sendchange, status]}]\n"
      "builders:\n"
      "  - {name: quick, slaves: [s1], steps: [{shell: {command: \"test '%(prop:revision)s' != bad\"}}]}\n"
      "  - {name: full, slaves: [s1], steps: [{shell: {command: \"echo full build of %(prop:revision)s\"}}]}\n"
      "schedulers:\n"
      "  - {name: quick, type: single_branch, branch: main, builders: [quick]}\n"
      "  - {name: full, type: dependent, upstream: quick, builders: [full]}\n");
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "pw");
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();

  auto count = [&](const std::string& builder) {
    return std::stoi(sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1 AND builder='" +
                                                 builder + "'")[0][0]);
  };
  ASSERT_EQ(master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "bad"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return count("quick") == 1; }, 60s)) << master.log();
  ASSERT_EQ(master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "good1"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return count("full") == 1; }, 60s)) << master.log();
  auto rows = sqlite(master.dbPath(),
                     "SELECT q.started_at <= f.started_at, f.result, bs.scheduler FROM builds f, builds q "
                     "JOIN buildrequests r ON r.id=f.request_id JOIN buildsets bs ON bs.id=r.buildset_id "
                     "WHERE f.builder='full' AND q.builder='quick' AND q.number=2");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], "0");
  EXPECT_EQ(rows[0][2], "full");
  auto props = sqlite(master.dbPath(), "SELECT properties FROM builds WHERE builder='full'");
  EXPECT_NE(props[0][0].find("good1"), std::string::npos) << "same source stamp as upstream: " << props[0][0];
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT result FROM builds WHERE builder='quick' AND number=1")[0][0], "2");
  EXPECT_EQ(count("full"), 1) << "the failed quick build started nothing";
}

}  // namespace
}  // namespace bb::test
