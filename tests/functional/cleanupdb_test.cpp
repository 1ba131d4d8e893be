// buildmaster cleanupdb beside a running master: old builds go, the master
// keeps serving and numbering, and compaction waits for a stopped master.
#include <gtest/gtest.h>

#include <thread>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

TEST(Cleanupdb, DeletesOldBuildsWhileTheMasterRuns) {
  TempDir tmp("bb-cleanupdb");
  MasterProcess master(tmp.sub("master"));
  master.create();
  master.writeConfig(basicMasterYaml(master.port(), makeVerifier("spw"), makeVerifier("upw")));
  master.setAuth("alice", "upw");
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "spw");
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  for (int i = 0; i < 3; ++i) {
    const CmdResult r = master.client({"force", "--scheduler", "force", "--wait"});
    ASSERT_EQ(r.rc, 0) << r.describe();
  }
  // --older-than takes whole seconds of age: let the builds be one second old.
  std::this_thread::sleep_for(1100ms);
  // Artifacts as upload steps leave them (DIR/artifacts/BUILDER/NUMBER),
  // of builds 1 (deleted now) and 3 (kept).
  writeFile(master.dir() + "/artifacts/b1/1/dist.tar.zst", std::string(1000, 'x'));
  writeFile(master.dir() + "/artifacts/b1/3/dist.tar.zst", "kept");
  CmdResult r = master.admin({"cleanupdb", master.dir(), "--older-than", "0"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.out.find("deleted 2 build(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("removed the artifacts of 1 deleted build(s) (0.0 MB)"), std::string::npos) << r.out;
  EXPECT_FALSE(fileExists(master.dir() + "/artifacts/b1/1"));
  EXPECT_EQ(readFile(master.dir() + "/artifacts/b1/3/dist.tar.zst"), "kept");
  EXPECT_NE(r.out.find("not compacted: the master is running"), std::string::npos) << r.out;
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT number FROM builds"),
            (std::vector<std::vector<std::string>>{{"3"}}));
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT count(*) FROM logs")[0][0], "1");

  // The master goes on: status answers, the next build is #4.
  r = master.client({"force", "--scheduler", "force", "--wait"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.out.find("build #4"), std::string::npos) << r.out;
  r = master.client({"status"});
  EXPECT_EQ(r.rc, 0) << r.describe();

  // Stopped, it compacts.
  slave.stop();
  ASSERT_EQ(master.stop(), 0);
  r = master.admin({"cleanupdb", master.dir(), "--older-than", "30"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.out.find("deleted 0 build(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("compacted the database: "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bb::test
