// Schedulers with real processes.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

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
                     "SELECT q.started_at <= f.started_at, f.result, bs.scheduler FROM builds f "
                     "JOIN buildrequests r ON r.id=f.request_id JOIN buildsets bs ON bs.id=r.buildset_id, builds q "
                     "WHERE f.builder='full' AND q.builder='quick' AND q.number=2");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], "0");
  EXPECT_EQ(rows[0][2], "full");
  auto props = sqlite(master.dbPath(), "SELECT properties FROM builds WHERE builder='full'");
  EXPECT_NE(props[0][0].find("good1"), std::string::npos) << "same source stamp as upstream: " << props[0][0];
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT result FROM builds WHERE builder='quick' AND number=1")[0][0], "2");
  EXPECT_EQ(count("full"), 1) << "the failed quick build started nothing";
}

TEST(Schedulers, ChangeStatusShowsBuiltWaitingAndIgnored) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  master.writeConfig(
      "master: {name: cs, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + "}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [sendchange, status]}]\n"
      "builders: [{name: b, slaves: [s1], steps: [{shell: {command: \"true\"}}]}]\n"
      "schedulers:\n"
      "  - {name: quick, type: single_branch, branch: main, builders: [b]}\n"
      "  - {name: slow, type: single_branch, branch: main, tree_stable_timer: 3600, builders: [b]}\n"
      "  - {name: release, type: single_branch, branch: release, builders: [b]}\n"
      "  - {name: force, type: force, builders: [b]}\n");
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "pw");
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  auto sc = master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "abc", "src/a.c"});
  ASSERT_EQ(sc.rc, 0) << sc.describe();
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1")[0][0] == "1";
  }, 60s)) << master.log();
  auto r = master.client({"change-status", "1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  const std::string& out = r.out;
  const auto built = out.find("built by:"), waiting = out.find("waiting in:"), ignored = out.find("ignored by:");
  ASSERT_TRUE(built != std::string::npos && waiting != std::string::npos && ignored != std::string::npos) << out;
  const auto quick = out.find("quick (single_branch)"), slow = out.find("slow (single_branch)"),
             release = out.find("release (single_branch)"), force = out.find("force (force)");
  EXPECT_TRUE(built < quick && quick < waiting) << out;
  EXPECT_TRUE(waiting < slow && slow < ignored) << out;
  EXPECT_GT(release, ignored) << out;
  EXPECT_GT(force, ignored) << out;
  EXPECT_NE(out.find("tree-stable timer"), std::string::npos) << out;
  EXPECT_NE(out.find("branch 'main' is not 'release'"), std::string::npos) << out;
  EXPECT_NE(out.find("b: success, build #1 success"), std::string::npos) << out;
  EXPECT_EQ(master.client({"change-status", "99"}).rc, 1);
}

}  // namespace
}  // namespace bb::test
