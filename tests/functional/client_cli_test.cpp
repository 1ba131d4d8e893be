// The `buildbot` command as a user runs it: usage errors, help, connection
// failures, and requests to a real buildmaster on loopback.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// Runs buildbot with no inherited connection settings and HOME at `home`.
CmdResult buildbot(std::vector<std::string> args, const std::string& home,
                   std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), BB_BIN_CLIENT);
  env.emplace("HOME", home);
  env.emplace("BUILDBOT_MASTER", "");
  env.emplace("BUILDBOT_AUTH", "");
  // These tests never reach a TLS handshake; the client still wants to know
  // how it would trust the master.
  env.emplace("BUILDBOT_MASTER_FINGERPRINT", "SHA256:" + std::string(64, '0'));
  return run(args, "", env);
}

class ClientCli : public ::testing::Test {
 protected:
  TempDir home_{"bb-client-home"};
};

TEST_F(ClientCli, NoVerbIsUsageError) {
  const CmdResult r = buildbot({}, home_.path());
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "no verb given")) << r.describe();
  EXPECT_TRUE(contains(r.err, "Usage: buildbot")) << r.describe();
}

TEST_F(ClientCli, UnknownVerbAndOptionAreUsageErrors) {
  CmdResult r = buildbot({"frobnicate"}, home_.path());
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "unknown verb 'frobnicate'")) << r.describe();
  r = buildbot({"status", "--no-such-option"}, home_.path());
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "no-such-option")) << r.describe();
  r = buildbot({"force", "--master", "127.0.0.1:1", "--auth", "a:b"}, home_.path());
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "--scheduler NAME is required")) << r.describe();
}

TEST_F(ClientCli, HelpForEveryVerb) {
  for (const std::string verb : {"sendchange", "force", "status"}) {
    const CmdResult r = buildbot({verb, "--help"}, home_.path());
    EXPECT_EQ(r.rc, 0) << verb << ": " << r.describe();
    EXPECT_TRUE(contains(r.out, "Usage: buildbot " + verb)) << r.describe();
    EXPECT_TRUE(contains(r.out, "--master")) << r.describe();
    EXPECT_TRUE(contains(r.out, "--auth")) << r.describe();
  }
  const CmdResult s = buildbot({"sendchange", "--help"}, home_.path());
  for (const std::string opt : {"--who", "--repository", "--project", "--branch", "--revision",
                                "--category", "--comments", "--logfile", "--property", "--when"})
    EXPECT_TRUE(contains(s.out, opt)) << opt;
  const CmdResult f = buildbot({"force", "--help"}, home_.path());
  for (const std::string opt : {"--scheduler", "--builder", "--reason", "--owner", "--wait"})
    EXPECT_TRUE(contains(f.out, opt)) << opt;
}

TEST_F(ClientCli, ConnectionRefusedExits3) {
  const int port = freePort();
  const CmdResult r =
      buildbot({"status", "--master", "127.0.0.1:" + std::to_string(port), "--auth", "a:b"},
               home_.path());
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_TRUE(contains(r.err, "cannot connect to 127.0.0.1:" + std::to_string(port) +
                                  ": connection refused"))
      << r.describe();
}

TEST_F(ClientCli, BadAuthAndMasterFormatsAreUsageErrors) {
  CmdResult r = buildbot({"status", "--master", "127.0.0.1:9989", "--auth", "nopassword"},
                         home_.path());
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "USER:PASSWORD")) << r.describe();
  r = buildbot({"status", "--master", "127.0.0.1", "--auth", "a:b"}, home_.path());
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "HOST:PORT")) << r.describe();
  r = buildbot({"status"}, home_.path());
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "no master given")) << r.describe();
}

TEST_F(ClientCli, SettingsFromOptionsFileThenEnvironment) {
  const int filePort = freePort();
  writeFile(home_.sub(".buildbot/options"),
            "# written by the test\nmaster = 127.0.0.1:" + std::to_string(filePort) +
                "\nauth = alice:pw\n");
  CmdResult r = buildbot({"status"}, home_.path());
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_TRUE(contains(r.err, "127.0.0.1:" + std::to_string(filePort))) << r.describe();

  const int envPort = freePort();
  r = buildbot({"status"}, home_.path(),
               {{"BUILDBOT_MASTER", "127.0.0.1:" + std::to_string(envPort)}});
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_TRUE(contains(r.err, "127.0.0.1:" + std::to_string(envPort))) << r.describe();

  writeFile(home_.sub(".buildbot/options"), "this line has no equals sign\n");
  r = buildbot({"status"}, home_.path());
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, ".buildbot/options:1:")) << r.describe();
}

// ---- against a real buildmaster ----

class ClientAgainstMaster : public ::testing::Test {
 protected:
  void SetUp() override {
    master_ = std::make_unique<MasterProcess>(tmp_.sub("master"));
    master_->create();
    const std::string yaml = basicMasterYaml(master_->port(), makeVerifier("slave-pw"),
                                             makeVerifier("alice-pw")) +
                             "\n";
    // A second user who may only look.
    std::string withBob = yaml;
    const std::string bobLine = "users: [{name: bob, password: \"" + makeVerifier("bob-pw") +
                                "\", may: [status]}, ";
    const auto pos = withBob.find("users: [");
    withBob.replace(pos, std::string("users: [").size(), bobLine);
    master_->writeConfig(withBob);
    master_->start();
    master_->setAuth("alice", "alice-pw");
  }

  TempDir tmp_{"bb-client-func"};
  std::unique_ptr<MasterProcess> master_;
};

TEST_F(ClientAgainstMaster, SendchangeThenStatus) {
  const CmdResult sent = master_->client({"sendchange", "--who", "carol", "--branch", "main",
                                          "--revision", "1234abcd", "--comments", "fix the build",
                                          "--property", "ticket:42", "src/a.c", "docs/b.md"});
  ASSERT_EQ(sent.rc, 0) << sent.describe() << "\nmaster log:\n" << master_->log();
  EXPECT_TRUE(contains(sent.out, "change sent successfully (change ")) << sent.describe();

  const auto rows = sqlite(master_->dbPath(),
                           "SELECT author, branch, revision, comments FROM changes ORDER BY id");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"carol", "main", "1234abcd", "fix the build"}));
  const auto files =
      sqlite(master_->dbPath(), "SELECT path FROM change_files ORDER BY change_id, seq");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0][0], "src/a.c");
  EXPECT_EQ(files[1][0], "docs/b.md");

  const CmdResult status = master_->client({"status"});
  ASSERT_EQ(status.rc, 0) << status.describe() << "\nmaster log:\n" << master_->log();
  EXPECT_TRUE(contains(status.out, "BUILDER")) << status.describe();
  EXPECT_TRUE(contains(status.out, "b1")) << status.describe();

  const CmdResult json = master_->client({"status", "--json"});
  ASSERT_EQ(json.rc, 0) << json.describe();
  EXPECT_TRUE(contains(json.out, "\"builders\"")) << json.describe();
}

TEST_F(ClientAgainstMaster, WrongPasswordIsRefusedWithExit3) {
  master_->setAuth("alice", "not-the-password");
  const CmdResult r = master_->client({"status"});
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_TRUE(contains(r.err, "login refused by master: auth_failed")) << r.describe();
}

TEST_F(ClientAgainstMaster, MethodNotPermittedExits1) {
  master_->setAuth("bob", "bob-pw");
  const CmdResult ok = master_->client({"status"});
  EXPECT_EQ(ok.rc, 0) << ok.describe() << "\nmaster log:\n" << master_->log();
  const CmdResult r = master_->client({"sendchange", "--comments", "nope"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_EQ(r.err, "buildbot sendchange: user 'bob' may not use sendchange (add 'sendchange' to "
                   "its `may` list)\n")
      << r.describe();
  EXPECT_TRUE(sqlite(master_->dbPath(), "SELECT id FROM changes").empty());
}

TEST_F(ClientAgainstMaster, ForceWaitRunsTheBuildOnASlave) {
  SlaveProcess slave(tmp_.sub("slave"), master_->port(), "s1", "slave-pw");
  slave.create();
  slave.start();
  const CmdResult r =
      master_->client({"force", "--scheduler", "force", "--reason", "functional test", "--wait"},
                      120s);
  ASSERT_EQ(r.rc, 0) << r.describe() << "\nmaster log:\n"
                     << master_->log() << "\nslave log:\n"
                     << slave.log();
  EXPECT_TRUE(contains(r.out, "buildset ")) << r.describe();
  EXPECT_TRUE(contains(r.out, "b1: build request ")) << r.describe();
  EXPECT_TRUE(contains(r.out, "b1: success")) << r.describe();
  EXPECT_TRUE(contains(r.out, "complete: success")) << r.describe();

  const CmdResult details = master_->client({"status", "--builder", "b1", "--build", "1", "--logs"});
  ASSERT_EQ(details.rc, 0) << details.describe();
  EXPECT_TRUE(contains(details.out, "hello")) << details.describe();
  EXPECT_TRUE(contains(details.out, "success")) << details.describe();
}

TEST_F(ClientAgainstMaster, UnknownSchedulerIsAMasterError) {
  const CmdResult r = master_->client({"force", "--scheduler", "no-such-scheduler"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_EQ(r.err, "buildbot force: no force scheduler named 'no-such-scheduler'\n"
                   "  force schedulers: force\n")
      << r.describe();
}

}  // namespace
}  // namespace bb::test
