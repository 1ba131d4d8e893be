// TLS on the master's port with real processes: the certificate that
// create-master makes, slaves and clients that pin it, a wrong certificate
// refused with both fingerprints named, plain peers and TLS peers that
// meet the other kind, SCRAM channel binding, and a certificate replaced
// by reconfig. (Every other functional test runs over TLS too: see
// masterFingerprintFor in harness.hpp.)
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"
#include "tests/functional/raw_peer.hpp"

namespace bb::test {
namespace {

const std::string& slaveVerifier() {
  static const std::string v = makeVerifier("slave-pw");
  return v;
}
const std::string& userVerifier() {
  static const std::string v = makeVerifier("alice-pw");
  return v;
}

class Tls : public ::testing::Test {
 protected:
  void startMaster(const std::string& masterExtra = "") {
    master_.create();
    std::string yaml = basicMasterYaml(master_.port(), slaveVerifier(), userVerifier());
    if (!masterExtra.empty()) {
      const std::string head = "database: \"sqlite:state.sqlite\"";
      yaml.replace(yaml.find(head), head.size(), head + ", " + masterExtra);
    }
    master_.writeConfig(yaml);
    master_.setAuth("alice", "alice-pw");
    master_.start();
  }
  // The fingerprint of a certificate that is not the master's.
  std::string otherFingerprint() {
    MasterProcess other(tmp_.sub("other"));
    other.create();
    return other.fingerprint();
  }

  TempDir tmp_{"bb-tls"};
  MasterProcess master_{tmp_.sub("master")};
};

TEST_F(Tls, CreateMasterMakesAPrivateKeyAndPrintsTheFingerprintThatIsServed) {
  const CmdResult r = master_.admin({"create-master", master_.dir()});
  ASSERT_EQ(r.rc, 0) << r.describe();
  struct stat st {};
  ASSERT_EQ(::stat((master_.dir() + "/master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string fp = master_.fingerprint();
  ASSERT_EQ(fp.size(), 7u + 64u) << fp;
  EXPECT_TRUE(contains(r.out, "master fingerprint: " + fp)) << r.describe();
  // A second create-master keeps the pair (slaves pin it).
  const CmdResult again = master_.admin({"create-master", master_.dir()});
  ASSERT_EQ(again.rc, 0) << again.describe();
  EXPECT_EQ(master_.fingerprint(), fp);

  master_.writeConfig(basicMasterYaml(master_.port(), slaveVerifier(), userVerifier()));
  master_.setAuth("alice", "alice-pw");
  master_.start();
  EXPECT_TRUE(master_.waitForLog("(TLS, certificate " + fp + ")")) << master_.log();
  const CmdResult status = master_.client({"status"});
  EXPECT_EQ(status.rc, 0) << status.describe() << master_.log();
}

TEST_F(Tls, SlaveBuildsOverTlsAndClientSeesTheResult) {
  startMaster();
  SlaveProcess slave(tmp_.sub("slave"), master_.port(), "s1", "slave-pw");
  slave.create();
  EXPECT_TRUE(contains(readFile(slave.dir() + "/slave.yaml"), master_.fingerprint()));
  slave.start();
  ASSERT_TRUE(master_.waitForLog("slave s1 connected")) << master_.log() << slave.log();
  const CmdResult force = master_.client({"force", "--scheduler", "force", "--wait"});
  EXPECT_EQ(force.rc, 0) << force.describe() << master_.log();
  EXPECT_TRUE(contains(force.out + force.err, "success")) << force.describe();
}

TEST_F(Tls, WrongCertificateIsRefusedNamingBothFingerprints) {
  startMaster();
  const std::string wrong = otherFingerprint();
  const std::string right = master_.fingerprint();
  ASSERT_NE(wrong, right);
  const std::string expected =
      "refusing the master's certificate: expected fingerprint " + wrong + ", the master presented " + right;

  SlaveProcess slave(tmp_.sub("slave"), master_.port(), "s1", "slave-pw");
  slave.create({"--master-fingerprint", wrong});
  slave.start();
  EXPECT_TRUE(slave.waitForLog(expected)) << slave.log();
  EXPECT_TRUE(slave.running()) << "the slave keeps retrying, as for an unreachable master";
  EXPECT_FALSE(contains(master_.log(), "slave s1 connected")) << master_.log();

  CmdResult r = run({BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master_.port()),
                     "--master-fingerprint", wrong, "status"},
                    "", {{"HOME", master_.dir()}, {"BUILDBOT_AUTH", "alice:alice-pw"}});
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_TRUE(contains(r.err, expected)) << r.describe();
  EXPECT_FALSE(contains(master_.log(), "client alice logged in")) << master_.log();
}

TEST_F(Tls, PlainPeerAgainstTlsMasterIsToldAndLogged) {
  startMaster();
  const CmdResult r =
      run({BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master_.port()), "--plaintext",
           "status"},
          "", {{"HOME", master_.dir()}, {"BUILDBOT_AUTH", "alice:alice-pw"}});
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_TRUE(contains(r.err, "tls_required: this master accepts only TLS connections")) << r.describe();
  EXPECT_TRUE(master_.waitForLog("a plain-TCP peer was refused: this master requires TLS"))
      << master_.log();
  // The master goes on serving TLS peers.
  EXPECT_EQ(master_.client({"status"}).rc, 0) << master_.log();
}

TEST_F(Tls, PlainMasterServesPlainPeersAndTellsTlsOnesNothingUseful) {
  startMaster("tls: false");
  EXPECT_TRUE(master_.waitForLog("(plain TCP: tls is false)")) << master_.log();
  EXPECT_EQ(master_.fingerprint(), "");
  SlaveProcess slave(tmp_.sub("slave"), master_.port(), "s1", "slave-pw");
  slave.create();  // --plaintext, as the master has no certificate
  EXPECT_TRUE(contains(readFile(slave.dir() + "/slave.yaml"), "tls: false"));
  slave.start();
  ASSERT_TRUE(master_.waitForLog("slave s1 connected")) << master_.log() << slave.log();
  EXPECT_EQ(master_.client({"status"}).rc, 0) << master_.log();

  const CmdResult r = run({BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master_.port()),
                           "--master-fingerprint", otherFingerprint(), "status"},
                          "", {{"HOME", master_.dir()}, {"BUILDBOT_AUTH", "alice:alice-pw"}});
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_TRUE(contains(r.err, "TLS handshake failed")) << r.describe();
  EXPECT_TRUE(contains(r.err, "if the master runs without TLS")) << r.describe();
}

TEST_F(Tls, LoginOverTlsMustBindTheChannel) {
  startMaster();
  RawPeer unbound(master_.port());
  ASSERT_TRUE(unbound.tls());
  try {
    unbound.login("client", "alice", "alice-pw", /*bindChannel=*/false);
    FAIL() << "a login without channel binding over TLS was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "bad_hello")) << e.what();
    EXPECT_TRUE(contains(e.what(), "SCRAM must use channel binding")) << e.what();
  }
  RawPeer bound(master_.port());
  const Json welcome = bound.login("client", "alice", "alice-pw");
  EXPECT_EQ(welcome.value("master", std::string()), "t");
}

TEST_F(Tls, ReconfigPicksUpAReplacedCertificate) {
  startMaster();
  const std::string before = master_.fingerprint();
  // The admin makes a new pair elsewhere and moves it in place.
  MasterProcess other(tmp_.sub("other"));
  other.create();
  const std::string after = other.fingerprint();
  writeFile(master_.dir() + "/master.crt", readFile(other.dir() + "/master.crt"));
  writeFile(master_.dir() + "/master.key", readFile(other.dir() + "/master.key"));
  const CmdResult rc = master_.reconfig();
  ASSERT_EQ(rc.rc, 0) << rc.describe() << master_.log();
  EXPECT_TRUE(master_.waitForLog("TLS certificate replaced: new connections get " + after))
      << master_.log();
  EXPECT_EQ(master_.client({"status"}).rc, 0) << master_.log();  // pins `after` now
  const CmdResult old = run({BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master_.port()),
                             "--master-fingerprint", before, "status"},
                            "", {{"HOME", master_.dir()}, {"BUILDBOT_AUTH", "alice:alice-pw"}});
  EXPECT_EQ(old.rc, 3) << old.describe();
  EXPECT_TRUE(contains(old.err, "expected fingerprint " + before)) << old.describe();
}

// A certificate signed by a CA, trusted through --ca-file / ca_file with
// the host checked, instead of a pin: made with the openssl command.
class TlsWithCa : public Tls {
 protected:
  void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    const CmdResult r = run(args, tmp_.path());
    ASSERT_EQ(r.rc, 0) << r.describe();
  }
  // NAME.key and NAME.crt: a self-signed CA.
  void makeCa(const std::string& name) {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj", "/CN=" + name});
  }
  // The master's pair, signed by `ca`, for the address `san` (IP:...).
  void signMasterCertificate(const std::string& ca, const std::string& san) {
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             "signed.key", "-out", "signed.csr", "-subj", "/CN=buildmaster"});
    writeFile(tmp_.path() + "/ext.cnf", "subjectAltName=" + san + "\n");
    openssl({"x509", "-req", "-in", "signed.csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
             "-CAcreateserial", "-out", "signed.crt", "-days", "2", "-extfile", "ext.cnf"});
  }
  void startMasterWithSignedCertificate() {
    master_.create();
    writeFile(master_.dir() + "/master.crt", readFile(tmp_.path() + "/signed.crt"));
    writeFile(master_.dir() + "/master.key", readFile(tmp_.path() + "/signed.key"));
    master_.writeConfig(basicMasterYaml(master_.port(), slaveVerifier(), userVerifier()));
    master_.setAuth("alice", "alice-pw");
    master_.start();
  }
  CmdResult statusTrusting(const std::string& caFile) {
    return run({BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master_.port()), "--ca-file",
                caFile, "status"},
               "", {{"HOME", master_.dir()}, {"BUILDBOT_AUTH", "alice:alice-pw"}});
  }
};

TEST_F(TlsWithCa, SlaveAndClientTrustTheMasterThroughTheCa) {
  makeCa("ca");
  signMasterCertificate("ca", "IP:127.0.0.1");
  startMasterWithSignedCertificate();
  const std::string ca = tmp_.path() + "/ca.crt";

  const CmdResult status = statusTrusting(ca);
  EXPECT_EQ(status.rc, 0) << status.describe() << master_.log();

  SlaveProcess slave(tmp_.sub("slave"), master_.port(), "s1", "slave-pw");
  slave.create({"--ca-file", ca});
  const std::string yaml = readFile(slave.dir() + "/slave.yaml");
  EXPECT_TRUE(contains(yaml, "ca_file")) << yaml;
  EXPECT_FALSE(contains(yaml, "master_fingerprint")) << yaml;
  slave.start();
  ASSERT_TRUE(master_.waitForLog("slave s1 connected")) << master_.log() << slave.log();
  const CmdResult force = master_.client({"force", "--scheduler", "force", "--wait"});
  EXPECT_EQ(force.rc, 0) << force.describe() << master_.log();
}

TEST_F(TlsWithCa, AnotherCaOrAnotherAddressIsRefused) {
  makeCa("ca");
  makeCa("stranger");
  signMasterCertificate("ca", "IP:127.0.0.2");  // issued for another address
  startMasterWithSignedCertificate();

  const CmdResult wrongHost = statusTrusting(tmp_.path() + "/ca.crt");
  EXPECT_EQ(wrongHost.rc, 3) << wrongHost.describe();
  EXPECT_TRUE(contains(wrongHost.err, "TLS handshake failed")) << wrongHost.describe();

  const CmdResult wrongCa = statusTrusting(tmp_.path() + "/stranger.crt");
  EXPECT_EQ(wrongCa.rc, 3) << wrongCa.describe();
  EXPECT_TRUE(contains(wrongCa.err, "TLS handshake failed")) << wrongCa.describe();
  EXPECT_TRUE(contains(wrongCa.err, "unable to get local issuer certificate")) << wrongCa.describe();
  EXPECT_FALSE(contains(master_.log(), "client alice logged in")) << master_.log();
}

}  // namespace
}  // namespace bb::test
