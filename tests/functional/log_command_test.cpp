// `buildbot log` against a real master: a log bigger than one page comes
// out whole and byte for byte, and --follow prints a running build's
// output as it comes and ends when the build has finished.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// Builder "big" prints 600,000 numbered bytes (more than two 256 KiB
// pages); builder "slow" prints a line, waits for the file GATE, prints
// another.
std::string logCommandConfig(int port, const std::string& slaveV, const std::string& userV,
                   const std::string& gate) {
  return "master: {name: t, slave_port: " + std::to_string(port) + "}\n"
         "slaves: [{name: s1, password: \"" + slaveV + "\", max_builds: 2}]\n"
         "users: [{name: alice, password: \"" + userV + "\", may: [force, status]}]\n"
         "builders:\n"
         "  - {name: big, slaves: [s1], steps: [{shell: {name: print, command: "
         "\"seq -w 1 100000 | tr -d '\\\\n' | head -c 600000\"}}]}\n"
         "  - {name: slow, slaves: [s1], steps: [{shell: {name: wait, command: "
         "\"echo first line; while [ ! -e " + gate + " ]; do sleep 0.05; done; echo second line\"}}]}\n"
         "schedulers: [{name: force, type: force, builders: [big, slow]}]\n";
}

class LogCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    master_.create();
    master_.writeConfig(logCommandConfig(master_.port(), makeVerifier("spw"), makeVerifier("upw"), gate_));
    master_.setAuth("alice", "upw");
    master_.start();
    slave_.create();
    slave_.start();
    ASSERT_TRUE(master_.waitForLog("slave s1 connected")) << master_.log();
  }
  TempDir tmp_{"bb-logcmd"};
  std::string gate_ = tmp_.sub("GATE");
  MasterProcess master_{tmp_.sub("master")};
  SlaveProcess slave_{tmp_.sub("slave"), master_.port(), "s1", "spw"};
};

TEST_F(LogCommand, ALogOfSeveralPagesComesOutWhole) {
  CmdResult r = master_.client({"force", "--scheduler", "force", "--builder", "big", "--wait"}, 120s);
  ASSERT_EQ(r.rc, 0) << r.describe();
  r = master_.client({"log", "big", "1", "print"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  // The step's stdout, as printed: the header lines the slave adds come
  // before it in the same log.
  const CmdResult expected = run({"sh", "-c", "seq -w 1 100000 | tr -d '\\n' | head -c 600000"});
  ASSERT_EQ(expected.out.size(), 600000u);
  const auto at = r.out.find(expected.out.substr(0, 64));
  ASSERT_NE(at, std::string::npos) << r.out.substr(0, 500);
  EXPECT_EQ(r.out.substr(at, 600000), expected.out);
  EXPECT_NE(r.out.find("exit code 0", at + 600000), std::string::npos);
}

TEST_F(LogCommand, FollowPrintsARunningBuildLiveUntilItEnds) {
  ASSERT_EQ(master_.client({"force", "--scheduler", "force", "--builder", "slow"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return sqlite(master_.dbPath(), "SELECT count(*) FROM builds")[0][0] == "1"; },
                      30s));
  ChildProcess follow;
  const std::string out = tmp_.sub("follow.out");
  follow.start({BB_BIN_CLIENT, "--master-fingerprint", master_.fingerprint(), "--master",
                "127.0.0.1:" + std::to_string(master_.port()), "log",
                "slow", "1", "--follow"},
               out, "", {{"BUILDBOT_AUTH", "alice:upw"}, {"HOME", tmp_.path()}});
  // The first line arrives while the build still runs (it waits for GATE).
  // (The command line, with both texts, is in the log's header: look for
  // the output lines.)
  ASSERT_TRUE(waitFor([&] { return readFile(out).find("\nfirst line\n") != std::string::npos; }, 30s))
      << readFile(out);
  EXPECT_TRUE(follow.running()) << readFile(out);
  EXPECT_EQ(readFile(out).find("\nsecond line\n"), std::string::npos) << readFile(out);
  writeFile(gate_, "");
  ASSERT_TRUE(waitFor([&] { return !follow.running(); }, 30s)) << readFile(out);
  EXPECT_EQ(follow.exitStatus().value_or(-1), 0) << readFile(out);
  const std::string text = readFile(out);
  EXPECT_NE(text.find("first line\nsecond line\n"), std::string::npos) << text;
  EXPECT_NE(text.find("----- step 1 wait, log stdio -----"), std::string::npos) << text;
}

}  // namespace
}  // namespace bb::test
