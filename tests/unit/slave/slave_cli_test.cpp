// The buildslave command line: create-slave and usage errors (start/stop
// run real daemons and are covered by the functional tests).
#include "slave/slave_cli.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "config/slave_config.hpp"
#include "slave_test_util.hpp"

namespace bb {
namespace {

int run(std::vector<std::string> args) {
  args.insert(args.begin(), "buildslave");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return slaveMain(static_cast<int>(args.size()), argv.data());
}

TEST(SlaveCli, CreateSlaveWritesAConfigThatLoadsAndRefusesToOverwrite) {
  test::TempDir tmp;
  std::string dir = tmp.path() + "/s";
  const std::string fp = "SHA256:" + std::string(64, 'e');
  ASSERT_EQ(run({"create-slave", dir, "[::1]:9999", "linux-1", "pw", "--keepalive", "20",
                 "--basedir", "work", "--master-fingerprint", fp}),
            0);
  auto r = loadSlaveConfig(dir + "/slave.yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].toString());
  EXPECT_EQ(r.config->masterHost, "::1");
  EXPECT_EQ(r.config->masterPort, 9999);
  EXPECT_EQ(r.config->name, "linux-1");
  EXPECT_EQ(r.config->password, "pw");
  EXPECT_EQ(r.config->basedir, "work");
  EXPECT_EQ(r.config->heartbeatInterval, std::chrono::seconds(20));
  EXPECT_EQ(r.config->heartbeatTimeout, std::chrono::seconds(60));
  EXPECT_TRUE(r.config->tls);
  EXPECT_EQ(r.config->masterFingerprint, fp);
  auto perms = std::filesystem::status(dir + "/slave.yaml").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_write);
  EXPECT_EQ(run({"create-slave", dir, "host:1", "other", "pw", "--plaintext"}), 1);
  EXPECT_EQ(loadSlaveConfig(dir + "/slave.yaml").config->name, "linux-1");
}

TEST(SlaveCli, CreateSlaveNeedsToKnowHowToTrustTheMaster) {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/s";
  EXPECT_EQ(run({"create-slave", dir, "h:1", "n", "pw"}), 2);
  EXPECT_FALSE(std::filesystem::exists(dir + "/slave.yaml"));
  EXPECT_EQ(run({"create-slave", dir, "h:1", "n", "pw", "--master-fingerprint", "SHA256:12"}), 2);
  EXPECT_EQ(run({"create-slave", dir, "h:1", "n", "pw", "--plaintext", "--master-fingerprint",
                 "SHA256:" + std::string(64, 'e')}),
            2);
  EXPECT_FALSE(std::filesystem::exists(dir + "/slave.yaml"));
  ASSERT_EQ(run({"create-slave", dir, "h:1", "n", "pw", "--plaintext"}), 0);
  auto r = loadSlaveConfig(dir + "/slave.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->tls);
}

TEST(SlaveCli, CreateSlaveWithFailoverMastersListsThemInOrder) {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/s";
  const std::string fpA = "SHA256:" + std::string(64, 'a'), fpC = "SHA256:" + std::string(64, 'c');
  EXPECT_EQ(run({"create-slave", dir, "a:1", "n", "pw", "--master-fingerprint", fpA,
                 "--failover-master", "b:2=MD5:00"}),
            2);
  EXPECT_EQ(run({"create-slave", dir, "a:1", "n", "pw", "--master-fingerprint", fpA,
                 "--failover-master", "no-port"}),
            2);
  EXPECT_EQ(run({"create-slave", dir, "a:1", "n", "pw", "--plaintext", "--failover-master", "b:2=" + fpC}), 2);
  EXPECT_FALSE(std::filesystem::exists(dir + "/slave.yaml"));
  ASSERT_EQ(run({"create-slave", dir, "a:1", "n", "pw", "--master-fingerprint", fpA, "--failover-master",
                 "b:2", "--failover-master", "[::1]:3=" + fpC}),
            0);
  auto r = loadSlaveConfig(dir + "/slave.yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].toString());
  ASSERT_EQ(r.config->masters.size(), 3u);
  EXPECT_EQ(r.config->masters[0].host, "a");
  EXPECT_EQ(r.config->masters[1].host, "b");
  EXPECT_EQ(r.config->masters[1].fingerprint, "");  // master_fingerprint applies
  EXPECT_EQ(r.config->masters[2].host, "::1");
  EXPECT_EQ(r.config->masters[2].port, 3);
  EXPECT_EQ(r.config->masters[2].fingerprint, fpC);
  EXPECT_EQ(r.config->masterFingerprint, fpA);
}

TEST(SlaveCli, UsageErrorsExitTwo) {
  test::TempDir tmp;
  EXPECT_EQ(run({}), 2);
  EXPECT_EQ(run({"frobnicate"}), 2);
  EXPECT_EQ(run({"create-slave", tmp.path() + "/x", "no-port", "n", "p"}), 2);
  EXPECT_EQ(run({"create-slave", tmp.path() + "/x", "h:1", "n"}), 2);
  EXPECT_EQ(run({"create-slave", tmp.path() + "/x", "h:1", "n", "p", "--keepalive", "0"}), 2);
  EXPECT_EQ(run({"start"}), 2);
  EXPECT_EQ(run({"start", "a", "b"}), 2);
  EXPECT_EQ(run({"stop", "--bogus"}), 2);
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/x"));
  EXPECT_EQ(run({"start", "--help"}), 0);
  EXPECT_EQ(run({"create-slave", "--help"}), 0);
}

TEST(SlaveCli, StopWithoutADaemonSaysNotRunning) {
  test::TempDir tmp;
  EXPECT_EQ(run({"stop", tmp.path()}), 1);
  EXPECT_EQ(run({"start", tmp.path() + "/missing"}), 1);
}

}  // namespace
}  // namespace bb
