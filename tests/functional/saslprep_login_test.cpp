// Non-ASCII passwords with real processes: the verifier `buildmaster
// hash-password` makes from one spelling accepts another spelling of the
// same SASLprep (RFC 4013) password, from a slave and from a client.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

TEST(SaslPrepLogin, EquivalentSpellingsOfANonAsciiPasswordLogIn) {
  TempDir tmp("bb-saslprep");
  MasterProcess master(tmp.sub("master"));
  master.create();
  // Composed U+00E4 in the verifier, decomposed a + U+0308 in slave.yaml;
  // U+2168 (Roman numeral nine) for the user, who types "IX".
  master.writeConfig(basicMasterYaml(master.port(), makeVerifier("p\u00E4sswort"),
                                     makeVerifier("\u2168")));
  master.setAuth("alice", "IX");
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "pa\u0308sswort");
  slave.create();
  slave.start();
  EXPECT_TRUE(master.waitForLog("slave s1 connected")) << master.log() << slave.log();
  const CmdResult status = master.client({"status"});
  EXPECT_EQ(status.rc, 0) << status.describe() << master.log();

  // Another password is still another password.
  master.setAuth("alice", "IY");
  const CmdResult wrong = master.client({"status"});
  EXPECT_EQ(wrong.rc, 3) << wrong.describe();
}

TEST(SaslPrepLogin, HashPasswordRefusesWhatSaslPrepProhibits) {
  const CmdResult r = run({BB_BIN_MASTER, "hash-password", "--password", "bell\a"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_NE(r.err.find("SASLprep (RFC 4013) refuses it"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace bb::test
