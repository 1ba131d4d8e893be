// slave.yaml: parsing, errors, and the writeSlaveConfig round trip.
#include "config/slave_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::expectErrorAt;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/bb-slavecfg-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    if (d == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = d;
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(SlaveConfig, ParsesEveryKey) {
  auto r = parseSlaveConfig(
      "master: \"ci.example.org:9000\"\n"
      "name: linux-1\n"
      "password: s3cret\n"
      "basedir: /var/lib/bb\n"
      "heartbeat_interval: 4\n"
      "heartbeat_timeout: 12\n"
      "reconnect_min_ms: 100\n"
      "reconnect_max_ms: 5000\n"
      "kill_grace: 2\n"
      "max_frame: 2048\n"
      "master_fingerprint: \"sha256:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB\"\n"
      "ca_file: /etc/bb/ca.pem\n",
      "slave.yaml");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const SlaveConfig& c = *r.config;
  EXPECT_EQ(c.masterHost, "ci.example.org");
  EXPECT_EQ(c.masterPort, 9000);
  EXPECT_EQ(c.name, "linux-1");
  EXPECT_EQ(c.password, "s3cret");
  EXPECT_EQ(c.basedir, "/var/lib/bb");
  EXPECT_EQ(c.heartbeatInterval, std::chrono::seconds(4));
  EXPECT_EQ(c.heartbeatTimeout, std::chrono::seconds(12));
  EXPECT_EQ(c.reconnectMin, std::chrono::milliseconds(100));
  EXPECT_EQ(c.reconnectMax, std::chrono::milliseconds(5000));
  EXPECT_EQ(c.killGraceSeconds, 2);
  EXPECT_EQ(c.maxFrame, 2048u);
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.masterFingerprint, "SHA256:abababababababababababababababababababababababababababababababab");  // canonical form
  EXPECT_EQ(c.caFile, "/etc/bb/ca.pem");
}

TEST(SlaveConfig, TlsNeedsAPinOrACaFileAndPlainMustBeSaid) {
  auto r = parseSlaveConfig("name: s\npassword: p\n", "slave.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(dump(r.errors).find("the master's certificate is not pinned"), std::string::npos)
      << dump(r.errors);
  r = parseSlaveConfig("name: s\npassword: p\ntls: false\n", "slave.yaml");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_FALSE(r.config->tls);
  r = parseSlaveConfig("name: s\npassword: p\ntls: false\nca_file: ca.pem\n", "slave.yaml");
  expectErrorAt(r.errors, "master_fingerprint/ca_file are given but tls is false", 4, 10);
  r = parseSlaveConfig("name: s\npassword: p\nmaster_fingerprint: \"SHA256:abc\"\n", "slave.yaml");
  expectErrorAt(r.errors, "is not a SHA-256 fingerprint: a SHA-256 fingerprint has 64 hex digits", 3, 21);
  r = parseSlaveConfig("name: s\npassword: p\nmaster_fingerprint: \"MD5:ab\"\n", "slave.yaml");
  expectErrorAt(r.errors, "a fingerprint starts with 'SHA256:'", 3, 21);
}

const std::string kFpA = "SHA256:" + std::string(64, 'a');
const std::string kFpB = "SHA256:" + std::string(64, 'b');

TEST(SlaveConfig, MastersListsTheMastersOfAClusterInOrderWithTheirOwnPins) {
  auto r = parseSlaveConfig("name: s\npassword: p\nmasters:\n"
                            "  - {address: \"ci1:9989\", fingerprint: \"" + kFpA + "\"}\n"
                            "  - {address: \"[::1]:9990\", fingerprint: \"" + kFpB + "\"}\n",
                            "slave.yaml");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  ASSERT_EQ(r.config->masters.size(), 2u);
  EXPECT_EQ(r.config->masters[0].host, "ci1");
  EXPECT_EQ(r.config->masters[0].port, 9989);
  EXPECT_EQ(r.config->masters[0].fingerprint, kFpA);
  EXPECT_EQ(r.config->masters[1].host, "::1");
  EXPECT_EQ(r.config->masters[1].port, 9990);
  EXPECT_EQ(r.config->masters[1].fingerprint, kFpB);
  // The first one is "the master" for what names one.
  EXPECT_EQ(r.config->masterHost, "ci1");
  EXPECT_EQ(r.config->masterPort, 9989);
  EXPECT_EQ(masterEntries(*r.config).size(), 2u);

  // Plain addresses share master_fingerprint or ca_file.
  r = parseSlaveConfig("name: s\npassword: p\nca_file: /ca.pem\nmasters: [\"a:1\", \"b:2\"]\n", "slave.yaml");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->masters[1].host, "b");
  EXPECT_EQ(r.config->masters[1].fingerprint, "");

  // One master: masterEntries is that one.
  r = parseSlaveConfig("name: s\npassword: p\ntls: false\nmaster: \"h:5\"\n", "slave.yaml");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_TRUE(r.config->masters.empty());
  ASSERT_EQ(masterEntries(*r.config).size(), 1u);
  EXPECT_EQ(masterEntries(*r.config)[0].port, 5);
}

TEST(SlaveConfig, MastersMistakesAreNamedWithTheirPlace) {
  auto r = parseSlaveConfig("name: s\npassword: p\ntls: false\nmaster: \"a:1\"\nmasters: [\"b:2\"]\n",
                            "slave.yaml");
  expectErrorAt(r.errors, "give either master: (one master) or masters: (a list), not both", 5, 1);
  r = parseSlaveConfig("name: s\npassword: p\ntls: false\nmasters: []\n", "slave.yaml");
  expectErrorAt(r.errors, "masters must be a non-empty list", 4, 10);
  r = parseSlaveConfig("name: s\npassword: p\ntls: false\nmasters: [\"a:1\", \"nope\", \"a:1\"]\n",
                       "slave.yaml");
  expectErrorAt(r.errors, "masters[1] must be \"host:port\"", 4, 18);
  expectErrorAt(r.errors, "masters[2]: a:1 is listed twice", 4, 26);
  // Without a shared pin each master needs its own.
  r = parseSlaveConfig("name: s\npassword: p\nmasters:\n  - {address: \"a:1\", fingerprint: \"" + kFpA +
                           "\"}\n  - \"b:2\"\n",
                       "slave.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(dump(r.errors).find("the certificate of b:2 is not pinned"), std::string::npos) << dump(r.errors);
  EXPECT_EQ(dump(r.errors).find("a:1 is not pinned"), std::string::npos) << dump(r.errors);
  r = parseSlaveConfig("name: s\npassword: p\nmasters: [{address: \"a:1\", fingerprint: \"MD5:x\", port: 3}]\n",
                       "slave.yaml");
  EXPECT_NE(dump(r.errors).find("a fingerprint starts with 'SHA256:'"), std::string::npos) << dump(r.errors);
  EXPECT_NE(dump(r.errors).find("port"), std::string::npos) << dump(r.errors);
  r = parseSlaveConfig("name: s\npassword: p\ntls: false\nmasters: [{address: \"a:1\", fingerprint: \"" + kFpA +
                           "\"}]\n",
                       "slave.yaml");
  EXPECT_NE(dump(r.errors).find("a fingerprint is given but tls is false"), std::string::npos) << dump(r.errors);
}

TEST(SlaveConfig, MastersRoundTripThroughWriteAndLoad) {
  TempDir dir;
  const std::string path = dir.path() + "/slave.yaml";
  SlaveConfig c;
  c.name = "s";
  c.password = "p";
  c.masterFingerprint = kFpA;
  c.masters = {{"10.0.0.1", 9989, ""}, {"10.0.0.2", 9990, kFpB}};
  c.masterHost = "10.0.0.1";
  c.masterPort = 9989;
  writeSlaveConfig(c, path);
  auto r = loadSlaveConfig(path);
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  ASSERT_EQ(r.config->masters.size(), 2u);
  EXPECT_EQ(r.config->masters[0].host, "10.0.0.1");
  EXPECT_EQ(r.config->masters[0].fingerprint, "");
  EXPECT_EQ(r.config->masters[1].port, 9990);
  EXPECT_EQ(r.config->masters[1].fingerprint, kFpB);
  EXPECT_EQ(r.config->masterFingerprint, kFpA);
}

TEST(SlaveConfig, RelativeCaFileIsInTheSlaveDirectory) {
  TempDir dir;
  const std::string path = dir.path() + "/slave.yaml";
  std::ofstream(path) << "name: s\npassword: p\nca_file: certs/ca.pem\n";
  auto r = loadSlaveConfig(path);
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->caFile, dir.path() + "/certs/ca.pem");
}

TEST(SlaveConfig, DefaultsAndIpv6Master) {
  auto r = parseSlaveConfig("name: s\npassword: p\nmaster: \"[::1]:9989\"\ntls: false\n",
                            "slave.yaml");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->masterHost, "::1");
  EXPECT_EQ(r.config->masterPort, 9989);
  EXPECT_EQ(r.config->heartbeatInterval, std::chrono::seconds(10));
  EXPECT_EQ(r.config->killGraceSeconds, 5);
  EXPECT_TRUE(r.config->basedir.empty());
}

TEST(SlaveConfig, ErrorsAreAllReportedWithPositions) {
  auto r = parseSlaveConfig(
      "master: localhost\n"
      "name: \"a b\"\n"
      "pasword: x\n"
      "heartbeat_interval: 30\n"
      "heartbeat_timeout: 10\n"
      "reconnect_min_ms: 1000\n"
      "reconnect_max_ms: 10\n"
      "kill_grace: -1\n"
      "tls: false\n",
      "slave.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.config.has_value());
  expectErrorAt(r.errors, "master must be \"host:port\"", 1, 9);
  expectErrorAt(r.errors, "name 'a b' may only contain", 2, 7);
  expectErrorAt(r.errors, "unknown key 'pasword'", 3, 1);
  expectErrorAt(r.errors, "missing required key 'password'", 1, 1);
  expectErrorAt(r.errors, "heartbeat_timeout (10) must be greater than heartbeat_interval (30)", 5, 20);
  expectErrorAt(r.errors, "reconnect_max_ms (10) must not be less than reconnect_min_ms (1000)", 7, 19);
  expectErrorAt(r.errors, "kill_grace must be an integer between 0 and 3600", 8, 13);
  EXPECT_EQ(r.errors.size(), 7u) << dump(r.errors);
}

TEST(SlaveConfig, RejectsVerifierAsPassword) {
  auto r = parseSlaveConfig("name: s\npassword: \"" + test::kVerifier + "\"\n", "slave.yaml");
  expectErrorAt(r.errors, "the slave needs the plain password", 2, 11);
}

TEST(SlaveConfig, SyntaxErrorAndBadPort) {
  auto r = parseSlaveConfig("name: [s\n", "slave.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("YAML syntax error"), std::string::npos);
  auto p = parseSlaveConfig("name: s\npassword: p\nmaster: \"h:70000\"\n", "slave.yaml");
  expectErrorAt(p.errors, "master must be \"host:port\"", 3, 9);
}

TEST(SlaveConfig, WriteThenLoadRoundTripsWithMode0600) {
  TempDir dir;
  const std::string path = dir.path() + "/slave.yaml";
  SlaveConfig c;
  c.masterHost = "10.0.0.5";
  c.masterPort = 9111;
  c.name = "round-trip";
  c.password = "p@ss: \"quoted\" #not-a-comment";
  c.heartbeatInterval = std::chrono::seconds(3);
  c.heartbeatTimeout = std::chrono::seconds(9);
  c.reconnectMin = std::chrono::milliseconds(250);
  c.reconnectMax = std::chrono::milliseconds(8000);
  c.killGraceSeconds = 7;
  c.maxFrame = 4096;
  c.masterFingerprint = "SHA256:abababababababababababababababababababababababababababababababab";
  writeSlaveConfig(c, path);

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0);  // no leftover temp file

  auto r = loadSlaveConfig(path);
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const SlaveConfig& l = *r.config;
  EXPECT_EQ(l.path, path);
  EXPECT_EQ(l.masterHost, c.masterHost);
  EXPECT_EQ(l.masterPort, c.masterPort);
  EXPECT_EQ(l.name, c.name);
  EXPECT_EQ(l.password, c.password);
  EXPECT_EQ(l.heartbeatInterval, c.heartbeatInterval);
  EXPECT_EQ(l.heartbeatTimeout, c.heartbeatTimeout);
  EXPECT_EQ(l.reconnectMin, c.reconnectMin);
  EXPECT_EQ(l.reconnectMax, c.reconnectMax);
  EXPECT_EQ(l.killGraceSeconds, c.killGraceSeconds);
  EXPECT_EQ(l.maxFrame, c.maxFrame);
  EXPECT_TRUE(l.tls);
  EXPECT_EQ(l.masterFingerprint, c.masterFingerprint);
  // No basedir written: it defaults to the directory holding slave.yaml.
  EXPECT_EQ(l.basedir, dir.path());
}

TEST(SlaveConfig, RewriteTightensExistingMode) {
  TempDir dir;
  const std::string path = dir.path() + "/slave.yaml";
  {
    std::ofstream out(path);
    out << "old: content\n";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  SlaveConfig c;
  c.name = "s";
  c.password = "p";
  c.masterHost = "::1";
  c.basedir = "work";
  c.tls = false;
  writeSlaveConfig(c, path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto r = loadSlaveConfig(path);
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->masterHost, "::1");
  EXPECT_EQ(r.config->basedir, "work");
  EXPECT_FALSE(r.config->tls);
}

TEST(SlaveConfig, WriteFailureThrows) {
  SlaveConfig c;
  c.name = "s";
  c.password = "p";
  EXPECT_THROW(writeSlaveConfig(c, "/nonexistent-dir/slave.yaml"), std::runtime_error);
}

TEST(SlaveConfig, MissingFileSaysHowToCreateOne) {
  auto r = loadSlaveConfig("/nonexistent-dir/slave.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("create-slave"), std::string::npos);
}

}  // namespace
}  // namespace bb
