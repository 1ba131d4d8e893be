// End to end with real processes: a commit to a real git repository
// becomes a Change, a BuildSet and a build on one of two slaves.
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// Verifiers are slow to make (PBKDF2); one per password for the whole run.
// A master with two slaves (s1, s2) for builder `b1` whose steps are given.
std::string twoSlaveYaml(int port, const std::string& steps, const std::string& extra = "") {
  return "master: {name: func, slave_port: " + std::to_string(port) +
         ", database: \"sqlite:state.sqlite\", heartbeat_interval: 2, heartbeat_timeout: 10}\n"
         "slaves:\n"
         "  - {name: s1, password: " + q(verifier("pw1")) + "}\n"
         "  - {name: s2, password: " + q(verifier("pw2")) + "}\n"
         "users:\n"
         "  - {name: alice, password: " + q(verifier("alice-pw")) + ", may: [sendchange, force, status]}\n"
         "builders:\n"
         "  - name: b1\n"
         "    slaves: [s1, s2]\n"
         "    steps:\n" + steps + extra +
         "schedulers:\n"
         "  - {name: all, type: single_branch, branch: main, builders: [b1]}\n"
         "  - {name: force, type: force, builders: [b1]}\n";
}

std::string buildResult(const MasterProcess& m, int number) {
  auto rows = sqlite(m.dbPath(), "SELECT finished, result FROM builds WHERE builder='b1' AND number=" +
                                     std::to_string(number));
  if (rows.empty() || rows[0][0] != "1") return "";
  return rows[0][1];
}

bool waitBuild(const MasterProcess& m, int number, std::chrono::milliseconds t = 60s) {
  return waitFor([&] { return !buildResult(m, number).empty(); }, t);
}

struct BuildFlowEnv {
  TempDir tmp;
  MasterProcess master{tmp.sub("master")};
  SlaveProcess s1{tmp.sub("slave1"), master.port(), "s1", "pw1"};
  SlaveProcess s2{tmp.sub("slave2"), master.port(), "s2", "pw2"};

  void up(const std::string& yaml, bool twoSlaves = true) {
    master.create();
    master.writeConfig(yaml);
    master.setAuth("alice", "alice-pw");
    master.start();
    s1.create();
    s1.start();
    if (twoSlaves) {
      s2.create();
      s2.start();
    }
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
    if (twoSlaves) {
      ASSERT_TRUE(master.waitForLog("slave s2 connected")) << master.log();
    }
  }
};

TEST(BuildFlow, GitCommitBuildsOnOneOfTwoSlavesAndStatusShowsTheLog) {
  BuildFlowEnv e;
  GitRepo repo(e.tmp.sub("repo"));
  repo.init();
  repo.commit("README.md", "first\n", "initial");
  const std::string steps =
      "      - {git: {repo: " + q(repo.path()) + "}}\n"
      "      - {shell: {name: show, command: \"cat data.txt && echo built-ok\"}}\n";
  const std::string sources =
      "change_sources:\n"
      "  - {name: repo, type: git_poller, repo: " + q(repo.path()) + ", branches: [main], interval: 1}\n";
  e.up(twoSlaveYaml(e.master.port(), steps, "") + sources);
  ASSERT_TRUE(e.master.waitForLog("watching main")) << e.master.log();
  const std::string sha = repo.commit("data.txt", "payload-from-commit\n", "add data");

  ASSERT_TRUE(waitBuild(e.master, 1)) << e.master.log();
  EXPECT_EQ(buildResult(e.master, 1), "0");  // SUCCESS

  auto change = sqlite(e.master.dbPath(), "SELECT revision, branch, source FROM changes");
  ASSERT_EQ(change.size(), 1u);
  EXPECT_EQ(change[0][0], sha);
  EXPECT_EQ(change[0][1], "main");
  EXPECT_EQ(change[0][2], "git_poller:repo");
  auto slave = sqlite(e.master.dbPath(), "SELECT slave FROM builds WHERE number=1");
  ASSERT_EQ(slave.size(), 1u);
  EXPECT_TRUE(slave[0][0] == "s1" || slave[0][0] == "s2");

  auto st = e.master.client({"status", "--builder", "b1", "--build", "1", "--logs"});
  ASSERT_EQ(st.rc, 0) << st.describe();
  EXPECT_NE(st.out.find("payload-from-commit"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("built-ok"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find(sha), std::string::npos) << "the git step's log names the revision\n" << st.out;
  auto list = e.master.client({"status"});
  ASSERT_EQ(list.rc, 0) << list.describe();
  EXPECT_NE(list.out.find("success"), std::string::npos) << list.out;
}

TEST(BuildFlow, FailingCommandGivesFailure) {
  BuildFlowEnv e;
  e.up(twoSlaveYaml(e.master.port(), "      - {shell: {name: bad, command: \"echo about to fail; exit 3\"}}\n"
                                     "      - {shell: {name: never, command: \"echo should-not-run\"}}\n"),
       false);
  auto sc = e.master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "abc", "f.c"});
  ASSERT_EQ(sc.rc, 0) << sc.describe();
  ASSERT_TRUE(waitBuild(e.master, 1)) << e.master.log();
  EXPECT_EQ(buildResult(e.master, 1), "2");  // FAILURE
  auto steps = sqlite(e.master.dbPath(), "SELECT name, result, text FROM steps ORDER BY number");
  ASSERT_EQ(steps.size(), 1u) << "halt_on_failure stops the build";
  EXPECT_EQ(steps[0][1], "2");
  EXPECT_EQ(steps[0][2], "exit code 3");
}

TEST(BuildFlow, TimeoutKillsTheWholeProcessTree) {
  BuildFlowEnv e;
  const std::string pidFile = e.tmp.sub("grandchild.pid");
  e.up(twoSlaveYaml(e.master.port(),
                    "      - {shell: {name: hang, timeout: 2, command: \"sleep 300 & echo $! > " + pidFile +
                        "; sleep 300\"}}\n"),
       false);
  auto f = e.master.client({"force", "--scheduler", "force"});
  ASSERT_EQ(f.rc, 0) << f.describe();
  ASSERT_TRUE(waitBuild(e.master, 1)) << e.master.log();
  EXPECT_EQ(buildResult(e.master, 1), "2");
  const std::string pidText = readFile(pidFile);
  ASSERT_FALSE(pidText.empty());
  const pid_t grandchild = std::stoi(pidText);
  EXPECT_TRUE(waitFor([&] { return !fileExists("/proc/" + std::to_string(grandchild)); }, 10s))
      << "the sleeping grandchild " << grandchild << " survived the timeout";
  auto st = e.master.client({"status", "--builder", "b1", "--build", "1", "--logs"});
  EXPECT_NE(st.out.find("timed out"), std::string::npos) << st.out;
}

TEST(BuildFlow, WrongPasswordsAreRefused) {
  BuildFlowEnv e;
  e.up(twoSlaveYaml(e.master.port(), "      - {shell: {command: \"true\"}}\n"), false);
  SlaveProcess bad(e.tmp.sub("bad"), e.master.port(), "s2", "not-the-password");
  bad.create();
  bad.start();
  EXPECT_TRUE(e.master.waitForLog("login refused for slave 's2'")) << e.master.log();
  EXPECT_TRUE(waitFor([&] { return bad.log().find("auth_failed") != std::string::npos; }, 20s))
      << bad.log();
  auto r = run({BB_BIN_CLIENT, "status", "--master-fingerprint", e.master.fingerprint(), "--master",
                "127.0.0.1:" + std::to_string(e.master.port()),
                "--auth", "alice:wrong"});
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_NE(r.err.find("auth_failed"), std::string::npos) << r.describe();
  EXPECT_TRUE(e.master.waitForLog("login refused for client 'alice'")) << e.master.log();
}

int connectRaw(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads until EOF; true if the peer closed (rather than timing out).
bool closedByPeer(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

TEST(BuildFlow, MalformedFramesCloseOnlyThatConnection) {
  BuildFlowEnv e;
  // Plain TCP, so the raw frames below reach the frame decoder as they are
  // (over TLS the same decoder reads them: hostile_slave_test's RawPeer).
  std::string yaml =
      twoSlaveYaml(e.master.port(), "      - {shell: {name: slow, command: \"sleep 2; echo still-building\"}}\n");
  yaml.replace(yaml.find("heartbeat_timeout: 10}"), 22, "heartbeat_timeout: 10, tls: false}");
  e.up(yaml, false);
  auto f = e.master.client({"force", "--scheduler", "force"});
  ASSERT_EQ(f.rc, 0) << f.describe();
  ASSERT_TRUE(e.master.waitForLog("build b1 #1 started")) << e.master.log();

  // An oversized length, an unknown type, and garbage MessagePack.
  const std::vector<std::vector<unsigned char>> bad = {
      {0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 0, 0},
      {0x00, 0x00, 0x00, 0x01, 0x03, 0xe7, 0, 0, 0x80},
      {0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0, 0, 0xc1, 0xc1, 0xc1},
  };
  for (const auto& frame : bad) {
    int fd = connectRaw(e.master.port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
    EXPECT_TRUE(closedByPeer(fd));
    close(fd);
  }
  // A truncated frame followed by EOF.
  int fd = connectRaw(e.master.port());
  const unsigned char part[] = {0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0, 0, 0x80};
  ASSERT_EQ(write(fd, part, sizeof part), static_cast<ssize_t>(sizeof part));
  shutdown(fd, SHUT_WR);
  EXPECT_TRUE(closedByPeer(fd));
  close(fd);

  ASSERT_TRUE(waitBuild(e.master, 1)) << e.master.log();
  EXPECT_EQ(buildResult(e.master, 1), "0") << "the real slave kept building";
  const std::string log = e.master.log();
  EXPECT_NE(log.find("exceeds the maximum"), std::string::npos) << log;
  EXPECT_NE(log.find("unknown message type 999"), std::string::npos) << log;
  EXPECT_NE(log.find("undecodable"), std::string::npos) << log;
  EXPECT_NE(log.find("truncated frame"), std::string::npos) << log;
  EXPECT_TRUE(e.master.running());
}

TEST(BuildFlow, SlaveReconnectsAfterMasterRestartAndBuildsAgain) {
  BuildFlowEnv e;
  e.up(twoSlaveYaml(e.master.port(), "      - {shell: {command: \"echo run\"}}\n"), false);
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitBuild(e.master, 1)) << e.master.log();
  e.master.stop();
  EXPECT_TRUE(waitFor([&] { return e.s1.log().find("lost connection to master") != std::string::npos; }, 20s))
      << e.s1.log();
  e.master.start();
  ASSERT_TRUE(waitFor([&] {
    auto rows = sqlite(e.master.dbPath(), "SELECT connected FROM slaves WHERE name='s1'");
    return !rows.empty() && rows[0][0] == "1";
  }, 60s)) << e.master.log() << e.s1.log();
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitBuild(e.master, 2)) << e.master.log();
  EXPECT_EQ(buildResult(e.master, 2), "0");
  EXPECT_TRUE(e.s1.running());
}

TEST(BuildFlow, CheckconfigAndReconfigWithABrokenConfig) {
  BuildFlowEnv e;
  const std::string good = twoSlaveYaml(e.master.port(), "      - {shell: {command: \"echo v1\"}}\n");
  e.up(good, false);
  // Line 3 gets an unknown key: checkconfig names the line and column.
  std::string broken = good;
  broken.insert(broken.find("slaves:"), "bogus_key: 1\n");
  const std::string brokenPath = e.tmp.sub("broken.yaml");
  writeFile(brokenPath, broken);
  auto cc = run({BB_BIN_MASTER, "checkconfig", brokenPath});
  EXPECT_EQ(cc.rc, 1) << cc.describe();
  EXPECT_NE(cc.err.find(brokenPath + ":2:1"), std::string::npos) << cc.describe();
  EXPECT_NE(cc.err.find("bogus_key"), std::string::npos) << cc.describe();

  e.master.writeConfig(broken);
  auto rc = run({BB_BIN_MASTER, "reconfig", e.master.dir()});
  EXPECT_EQ(rc.rc, 1) << rc.describe();
  EXPECT_NE(rc.err.find("bogus_key"), std::string::npos) << rc.describe();
  // The old config still runs: builds go on.
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitBuild(e.master, 1)) << e.master.log();
  EXPECT_EQ(buildResult(e.master, 1), "0");

  // A valid reconfig applies without dropping the slave.
  std::string v2 = good;
  v2.replace(v2.find("echo v1"), 7, "echo v2");
  e.master.writeConfig(v2);
  auto ok = run({BB_BIN_MASTER, "reconfig", e.master.dir()});
  EXPECT_EQ(ok.rc, 0) << ok.describe();
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitBuild(e.master, 2)) << e.master.log();
  auto st = e.master.client({"status", "--builder", "b1", "--build", "2", "--logs"});
  EXPECT_NE(st.out.find("v2"), std::string::npos) << st.out;
  EXPECT_EQ(e.master.log().find("slave s1 disconnected"), std::string::npos) << e.master.log();
}

}  // namespace
}  // namespace bb::test
