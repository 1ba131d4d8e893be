// Secrets against real processes: a step prints a secret in two writes a
// second apart (so it reaches the master in two Output messages, with a
// log flush between them) and uses it on its command line; the stored
// log, `buildbot log`, `buildbot status`, the events a watcher receives,
// the build's rows and the master's log never hold the value. A reconfig
// reads a changed secret file again; checkconfig names a missing one.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/message.hpp"
#include "tests/functional/harness.hpp"
#include "tests/functional/raw_peer.hpp"

namespace bb::test {
namespace {

const std::string kSecret = "s3cr3t-SPLIT-value-42";  // split after 9 bytes
const std::string kFirst = "s3cr3t-SP", kRest = "LIT-value-42";
const std::string kNewSecret = "n3w-s3cr3t-after-reconfig";

std::string secretsConfig(int port, const std::string& slaveV, const std::string& userV) {
  return "master: {name: t, slave_port: " + std::to_string(port) + "}\n"
         "secrets:\n"
         "  tok: {file: tok.secret}\n"
         "slaves: [{name: s1, password: \"" + slaveV + "\"}]\n"
         "users: [{name: alice, password: \"" + userV + "\", may: [force, status]}]\n"
         "builders:\n"
         "  - name: b1\n"
         "    slaves: [s1]\n"
         "    steps:\n"
         "      - shell:\n"
         "          name: split\n"
         "          env: {TOK: \"%(secret:tok)s\"}\n"
         R"Y(          command: |
            printf 'start %s' "$(printf %s "$TOK" | head -c 9)"; sleep 1; printf '%s end\n' "$(printf %s "$TOK" | tail -c +10)"
)Y"
         "      - shell: {name: direct, command: \"echo direct %(secret:tok)s\"}\n"
         "schedulers: [{name: force, type: force, builders: [b1]}]\n";
}

class Secrets : public ::testing::Test {
 protected:
  void SetUp() override {
    master_.create();
    writeFile(master_.dir() + "/tok.secret", kSecret + "\n");
    master_.writeConfig(secretsConfig(master_.port(), makeVerifier("spw"), makeVerifier("upw")));
    master_.setAuth("alice", "upw");
    master_.start();
    slave_.create();
    slave_.start();
    ASSERT_TRUE(master_.waitForLog("slave s1 connected")) << master_.log();
  }
  // Everything a user or an admin can read about build `n`, and the events.
  void expectNowhere(const std::string& value, int n, const std::string& events) {
    const std::string num = std::to_string(n);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"log", "b1", num},
             {"status", "--builder", "b1", "--build", num, "--logs"},
             {"status"}}) {
      const CmdResult r = master_.client(args);
      EXPECT_EQ(r.rc, 0) << r.describe();
      EXPECT_EQ(r.out.find(value), std::string::npos) << r.out;
    }
    for (const auto& row : sqlite(master_.dbPath(),
                                  "SELECT b.properties, b.text, s.text FROM builds b "
                                  "JOIN steps s ON s.build_id = b.id"))
      for (const auto& cell : row) EXPECT_EQ(cell.find(value), std::string::npos) << cell;
    EXPECT_EQ(events.find(value), std::string::npos) << events;
    EXPECT_EQ(master_.log().find(value), std::string::npos) << master_.log();
  }
  TempDir tmp_{"bb-secrets"};
  MasterProcess master_{tmp_.sub("master")};
  SlaveProcess slave_{tmp_.sub("slave"), master_.port(), "s1", "spw"};
};

TEST_F(Secrets, ASecretSplitAcrossTwoOutputChunksIsMaskedEverywhere) {
  ChildProcess watch;
  const std::string watchOut = tmp_.sub("watch.out");
  watch.start({BB_BIN_CLIENT, "--master-fingerprint", master_.fingerprint(), "--master",
               "127.0.0.1:" + std::to_string(master_.port()), "watch",
               "--builder", "b1", "--json"},
              watchOut, "", {{"BUILDBOT_AUTH", "alice:upw"}});
  ASSERT_TRUE(master_.waitForLog("subscribed to events (builder b1)")) << master_.log();
  CmdResult r = master_.client({"force", "--scheduler", "force", "--wait"}, 120s);
  ASSERT_EQ(r.rc, 0) << r.describe() << master_.log();
  ASSERT_TRUE(waitFor([&] { return readFile(watchOut).find("\"build.finished\"") != std::string::npos; },
                      30s))
      << readFile(watchOut);

  // The slave ran the real value (the parts printed are the secret's).
  // (One log is printed as it is stored, so byte offsets match.)
  const std::string split = master_.client({"log", "b1", "1", "split"}).out;
  EXPECT_NE(split.find("start <secret:tok> end\n"), std::string::npos) << split;
  const std::string direct = master_.client({"log", "b1", "1", "direct"}).out;
  EXPECT_NE(direct.find("direct <secret:tok>\n"), std::string::npos) << direct;

  // It really came in two pieces: a store of the log ended exactly where
  // the secret begins (its first bytes were held back, not stored), while
  // the step was still sleeping before the rest.
  const std::string events = readFile(watchOut);
  // (The header's env line shows the tag too: look for the output.)
  const auto tag = static_cast<std::int64_t>(split.find("start <secret:tok>") + 6);
  bool boundary = false;
  std::size_t pos = 0;
  while (pos < events.size()) {
    const auto nl = events.find('\n', pos);
    const std::string line = events.substr(pos, nl - pos);
    pos = nl == std::string::npos ? events.size() : nl + 1;
    if (line.empty()) continue;
    const Json ev = Json::parse(line);
    if (ev["type"] == "log.lines" && ev["data"]["step"] == 1 && ev["data"]["end_byte"] == tag)
      boundary = true;
  }
  EXPECT_TRUE(boundary) << "no store ended at byte " << tag << " of:\n" << split << "\n" << events;

  for (const std::string& v : {kSecret, kFirst, kRest}) expectNowhere(v, 1, events);
  ::kill(watch.pid(), SIGINT);
  ASSERT_TRUE(waitFor([&] { return !watch.running(); }, 10s));

  // A reconfig reads the file again: the new value is used and masked.
  writeFile(master_.dir() + "/tok.secret", kNewSecret);
  r = master_.reconfig();
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(master_.waitForLog("reconfig complete: secrets: changed tok")) << master_.log();
  r = master_.client({"force", "--scheduler", "force", "--wait"}, 120s);
  ASSERT_EQ(r.rc, 0) << r.describe() << master_.log();
  const std::string direct2 = master_.client({"log", "b1", "2", "direct"}).out;
  EXPECT_NE(direct2.find("direct <secret:tok>\n"), std::string::npos) << direct2;
  expectNowhere(kNewSecret, 2, r.out);
}

TEST_F(Secrets, CheckconfigNamesAMissingSecretFileAndAReconfigWithOneKeepsTheRunningConfig) {
  ::unlink((master_.dir() + "/tok.secret").c_str());
  CmdResult r = master_.admin({"checkconfig", master_.dir()});
  EXPECT_NE(r.rc, 0) << r.describe();
  const std::string all = r.out + r.err;
  EXPECT_NE(all.find("master.yaml:3:8: secret 'tok': cannot read file " + master_.dir() +
                     "/tok.secret: No such file or directory"),
            std::string::npos)
      << all;
  r = master_.reconfig();
  ASSERT_TRUE(master_.waitForLog("reconfig failed")) << master_.log();
  EXPECT_NE(master_.log().find("secret 'tok': cannot read file"), std::string::npos) << master_.log();
  // The running config (and its secret) stays in effect.
  r = master_.client({"force", "--scheduler", "force", "--wait"}, 120s);
  ASSERT_EQ(r.rc, 0) << r.describe() << master_.log();
  EXPECT_NE(master_.client({"log", "b1", "1", "direct"}).out.find("direct <secret:tok>\n"),
            std::string::npos);
}

// A slave played by RawPeer controls exactly how output is cut: it gets
// the real value in its RunCommand, sends the secret split across two
// Output messages, and ends with a CommandDone whose props and error text
// hold it. The build's properties, its step and build texts and its log
// show the tag instead.
TEST(SecretsRawSlave, TheSlaveGetsTheValueAndWhatItSendsBackIsMasked) {
  TempDir tmp{"bb-secrets-raw"};
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string v = makeVerifier("pw");
  ::setenv("BB_FT_SECRET", kSecret.c_str(), 1);  // the master inherits it
  master.writeConfig("master: {name: t, slave_port: " + std::to_string(master.port()) + "}\n"
                     "secrets: {tok: {env: BB_FT_SECRET}}\n"
                     "slaves: [{name: s1, password: \"" + v + "\"}]\n"
                     "users: [{name: alice, password: \"" + v + "\", may: [force, status]}]\n"
                     "builders:\n"
                     "  - {name: b1, slaves: [s1], steps: [{git: {repo: "
                     "\"https://ci:%(secret:tok)s@example.invalid/r.git\"}}]}\n"
                     "schedulers: [{name: force, type: force, builders: [b1]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  ::unsetenv("BB_FT_SECRET");
  RawPeer peer(master.port());
  peer.login("slave", "s1", "pw");
  peer.send(MsgType::SlaveInfo, RawPeer::slaveInfo());
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0) << master.log();
  auto run = peer.waitFor(MsgType::RunCommand);
  ASSERT_TRUE(run) << master.log();
  EXPECT_NE(run->body.dump().find("\"https://ci:" + kSecret + "@example.invalid/r.git\""),
            std::string::npos)
      << run->body.dump();
  const std::int64_t id = getInt(run->body, "cmd_id");
  auto output = [&](const std::string& text) {
    peer.send(MsgType::Output, Json{{"cmd_id", id}, {"stream", 1},
                                    {"data", Json::binary(std::vector<std::uint8_t>(text.begin(), text.end()))}});
  };
  output("fatal: cannot reach https://ci:" + kFirst);
  output(kRest + "@example.invalid/r.git\n");
  peer.send(MsgType::CommandDone,
            Json{{"cmd_id", id}, {"rc", 128}, {"signal", 0}, {"timed_out", false},
                 {"interrupted", false}, {"error", "clone of https://ci:" + kSecret + "@example.invalid failed"},
                 {"props", Json{{"got_revision", "rev-" + kSecret}}}});
  ASSERT_TRUE(waitFor([&] { return sqlite(master.dbPath(), "SELECT finished FROM builds")[0][0] == "1"; }, 30s))
      << master.log();
  const auto row = sqlite(master.dbPath(),
                          "SELECT b.properties, b.text, s.text FROM builds b JOIN steps s ON s.build_id = b.id");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_NE(row[0][0].find("rev-<secret:tok>"), std::string::npos) << row[0][0];
  EXPECT_NE(row[0][1].find("clone of https://ci:<secret:tok>@example.invalid failed"), std::string::npos)
      << row[0][1];
  EXPECT_NE(row[0][2].find("https://ci:<secret:tok>@"), std::string::npos) << row[0][2];
  const std::string log = master.client({"log", "b1", "1"}).out;
  EXPECT_NE(log.find("fatal: cannot reach https://ci:<secret:tok>@example.invalid/r.git\n"),
            std::string::npos)
      << log;
  for (const std::string& part : {kSecret, kFirst, kRest}) {
    for (const auto& cell : row[0]) EXPECT_EQ(cell.find(part), std::string::npos) << cell;
    EXPECT_EQ(log.find(part), std::string::npos) << log;
    EXPECT_EQ(master.client({"status", "--builder", "b1", "--build", "1", "--logs"}).out.find(part),
              std::string::npos);
    EXPECT_EQ(master.log().find(part), std::string::npos) << master.log();
  }
}

}  // namespace
}  // namespace bb::test
