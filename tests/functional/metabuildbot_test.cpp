// config/examples/metabuildbot.yaml, this project's own CI, run for real
// against a local clone of the project: the config passes checkconfig, the
// poller hears a commit (the on-commit scheduler waits on it), and a forced
// build narrowed to a small target runs every step of the real pipeline
// (checkout, cmake configure, ninja, ctest) to success in seconds.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

TEST(Metabuildbot, BuildsAndTestsTheProjectFromALocalClone) {
  TempDir tmp("bb-meta");
  // The project as a repository with a main branch, wherever this checkout is.
  const std::string repo = tmp.sub("repo");
  CmdResult r = run({"git", "clone", "--quiet", "--no-hardlinks", BB_SOURCE_DIR, repo});
  ASSERT_EQ(r.rc, 0) << r.describe();
  GitRepo git(repo);
  git.git({"checkout", "--quiet", "-B", "main"});
  git.git({"config", "user.name", "Meta Tester"});
  git.git({"config", "user.email", "meta@example.org"});

  MasterProcess master(tmp.sub("master"));
  master.create();
  std::string yaml = readFile(std::string(BB_SOURCE_DIR) + "/config/examples/metabuildbot.yaml");
  replaceAll(yaml, "@REPO@", repo);
  replaceAll(yaml, "@SLAVE_VERIFIER@", makeVerifier("slavepw"));
  replaceAll(yaml, "@USER_VERIFIER@", makeVerifier("devpw"));
  replaceAll(yaml, "slave_port: 9990", "slave_port: " + std::to_string(master.port()));
  // Quick for a test: poll every second, and keep the full build the
  // commit asks for from starting while the test runs.
  replaceAll(yaml, "interval: 60", "interval: 1");
  replaceAll(yaml, "tree_stable_timer: 60", "tree_stable_timer: 86400");
  master.writeConfig(yaml);
  r = master.admin({"checkconfig", master.dir()});
  ASSERT_EQ(r.rc, 0) << r.describe();
  master.setAuth("dev", "devpw");
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "local", "slavepw");
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave local connected")) << master.log();
  ASSERT_TRUE(master.waitForLog("watching main")) << master.log();

  // A commit: the poller turns it into a change the on-commit scheduler holds.
  git.commit("meta-test.txt", "a change\n", "a commit the metabuildbot sees");
  ASSERT_TRUE(waitFor([&] { return sqlite(master.dbPath(), "SELECT count(*) FROM changes")[0][0] == "1"; },
                      60s))
      << master.log();
  r = master.client({"change-status", "1"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.out.find("on-commit"), std::string::npos) << r.out;

  // The pipeline, narrowed to one small object file and to listing the
  // project's tests, so it takes seconds.
  r = master.client({"force", "--scheduler", "force", "--builder", "build-and-test", "--wait",
                     "--property", "targets:common/CMakeFiles/bb_common.dir/results.cpp.o",
                     "--property", "ctest_args:--show-only -R ^package[.]"},
                    300s);
  ASSERT_EQ(r.rc, 0) << r.describe() << master.log();
  EXPECT_NE(r.out.find("build-and-test: success (build #1)"), std::string::npos) << r.out;
  r = master.client({"status", "--builder", "build-and-test", "--build", "1", "--logs"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  for (const char* step : {"git", "configure", "build", "test"})
    EXPECT_NE(r.out.find(step), std::string::npos) << step << "\n" << r.out;
  EXPECT_NE(r.out.find("-- Build files have been written to"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("results.cpp.o"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("package.install_and_deb"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bb::test
