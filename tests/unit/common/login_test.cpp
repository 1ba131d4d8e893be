#include "common/login.hpp"

#include <gtest/gtest.h>

#include <map>

namespace bb {
namespace {

using CStep = ClientLogin::Step;
using SStep = ServerLogin::Step;

class LoginTest : public ::testing::Test {
 protected:
  LoginTest() {
    verifiers_[{"slave", "linux-1"}] = makeScramVerifier("slavepw");
    verifiers_[{"client", "alice"}] = makeScramVerifier("alicepw");
  }

  ServerLogin::Lookup lookup() {
    return [this](const std::string& role, const std::string& name) -> std::optional<std::string> {
      auto it = verifiers_.find({role, name});
      if (it == verifiers_.end()) return std::nullopt;
      return it->second;
    };
  }

  Json extras() {
    return Json{{"master", "ci1"},
                {"heartbeat_interval_ms", 10000},
                {"heartbeat_timeout_ms", 30000},
                {"max_frame", 1 << 20}};
  }

  // Runs the handshake; returns the last client and server steps.
  struct Outcome {
    SStep server;
    CStep client;
  };
  Outcome exchange(ClientLogin& client, ServerLogin& server) {
    Outcome o;
    o.server = server.onMessage(client.hello());
    if (o.server.kind != SStep::Send) return o;
    EXPECT_EQ(o.server.reply.type, MsgType::AuthChallenge);
    o.client = client.onMessage(o.server.reply);
    if (o.client.kind != CStep::Send) return o;
    EXPECT_EQ(o.client.reply.type, MsgType::AuthProof);
    o.server = server.onMessage(o.client.reply);
    o.client = client.onMessage(o.server.reply);
    return o;
  }

  std::map<std::pair<std::string, std::string>, std::string> verifiers_;
};

TEST_F(LoginTest, SlaveLogsIn) {
  ClientLogin client("slave", "linux-1", "slavepw");
  ServerLogin server(lookup(), extras());
  const Message hello = client.hello();
  EXPECT_EQ(hello.type, MsgType::Hello);
  EXPECT_EQ(hello.body["protocol"], "bbcpp");
  EXPECT_EQ(hello.body["versions"], Json::array({1}));
  EXPECT_EQ(hello.body["role"], "slave");
  EXPECT_EQ(hello.body["name"], "linux-1");

  SStep s1 = server.onMessage(hello);
  ASSERT_EQ(s1.kind, SStep::Send) << s1.error;
  EXPECT_EQ(s1.reply.type, MsgType::AuthChallenge);
  EXPECT_EQ(s1.reply.body["version"], 1);

  CStep c1 = client.onMessage(s1.reply);
  ASSERT_EQ(c1.kind, CStep::Send) << c1.error;
  ASSERT_TRUE(c1.hasReply);

  SStep s2 = server.onMessage(c1.reply);
  ASSERT_EQ(s2.kind, SStep::Done) << s2.error;
  EXPECT_TRUE(s2.hasReply);
  EXPECT_EQ(s2.role, "slave");
  EXPECT_EQ(s2.name, "linux-1");
  EXPECT_EQ(s2.reply.type, MsgType::Welcome);

  CStep c2 = client.onMessage(s2.reply);
  ASSERT_EQ(c2.kind, CStep::Done) << c2.error;
  EXPECT_FALSE(c2.hasReply);
  EXPECT_EQ(c2.welcome["master"], "ci1");
  EXPECT_EQ(c2.welcome["heartbeat_timeout_ms"], 30000);
  EXPECT_EQ(c2.welcome["max_frame"], 1 << 20);
}

TEST_F(LoginTest, ClientRoleUsesItsOwnAccounts) {
  ClientLogin client("client", "alice", "alicepw");
  ServerLogin server(lookup(), extras());
  Outcome o = exchange(client, server);
  EXPECT_EQ(o.server.kind, SStep::Done) << o.server.error;
  EXPECT_EQ(o.server.role, "client");
  EXPECT_EQ(o.client.kind, CStep::Done) << o.client.error;

  // A slave account is not a client account.
  ClientLogin wrongRole("client", "linux-1", "slavepw");
  ServerLogin server2(lookup(), extras());
  o = exchange(wrongRole, server2);
  EXPECT_EQ(o.server.kind, SStep::Failed);
  EXPECT_EQ(o.server.reply.body["code"], "auth_failed");
}

TEST_F(LoginTest, WrongPasswordFailsBothWays) {
  ClientLogin client("slave", "linux-1", "wrong");
  ServerLogin server(lookup(), extras());
  Outcome o = exchange(client, server);
  ASSERT_EQ(o.server.kind, SStep::Failed);
  ASSERT_TRUE(o.server.hasReply);
  EXPECT_EQ(o.server.reply.type, MsgType::Error);
  EXPECT_EQ(o.server.reply.body["code"], "auth_failed");
  EXPECT_EQ(o.server.reply.body["message"], "authentication failed for slave 'linux-1'");
  EXPECT_EQ(o.server.error, "auth_failed: authentication failed for slave 'linux-1'");
  ASSERT_EQ(o.client.kind, CStep::Failed);
  EXPECT_EQ(o.client.error, "auth_failed: authentication failed for slave 'linux-1'");
}

TEST_F(LoginTest, ClientRejectsMasterThatDoesNotKnowThePassword) {
  // An impostor master holds a verifier of another password and "accepts"
  // anything; the slave must notice from the signature.
  ClientLogin client("slave", "linux-1", "slavepw");
  ServerLogin impostor(
      [](const std::string&, const std::string&) -> std::optional<std::string> {
        return makeScramVerifier("other");
      },
      extras());
  const SStep s1 = impostor.onMessage(client.hello());
  ASSERT_EQ(s1.kind, SStep::Send);
  const CStep c1 = client.onMessage(s1.reply);
  ASSERT_EQ(c1.kind, CStep::Send);
  Message welcome;
  welcome.type = MsgType::Welcome;
  welcome.body = extras();
  welcome.body["scram"] = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
  const CStep c2 = client.onMessage(welcome);
  EXPECT_EQ(c2.kind, CStep::Failed);
  EXPECT_EQ(c2.error, "master's signature is wrong: it does not know our password");
}

TEST_F(LoginTest, UnknownUserFailsAtProofNotAtHello) {
  ClientLogin client("slave", "nobody", "pw");
  ServerLogin server(lookup(), extras());
  const SStep s1 = server.onMessage(client.hello());
  ASSERT_EQ(s1.kind, SStep::Send) << "names must not be probeable at the Hello";
  const CStep c1 = client.onMessage(s1.reply);
  ASSERT_EQ(c1.kind, CStep::Send);
  const SStep s2 = server.onMessage(c1.reply);
  ASSERT_EQ(s2.kind, SStep::Failed);
  EXPECT_EQ(s2.reply.body["code"], "auth_failed");
  EXPECT_EQ(s2.reply.body["message"], "authentication failed for slave 'nobody'");
}

TEST_F(LoginTest, VersionMismatch) {
  ServerLogin server(lookup(), extras());
  ClientLogin client("slave", "linux-1", "slavepw");
  Message hello = client.hello();
  hello.body["versions"] = Json::array({2, 3});
  const SStep s = server.onMessage(hello);
  ASSERT_EQ(s.kind, SStep::Failed);
  ASSERT_TRUE(s.hasReply);
  EXPECT_EQ(s.reply.type, MsgType::Error);
  EXPECT_EQ(s.reply.body["code"], "unsupported_version");
  EXPECT_EQ(s.reply.body["message"],
            "this master speaks protocol versions [1]; the peer offered [2,3]");

  // The peer sees the master's reason.
  const CStep c = client.onMessage(s.reply);
  EXPECT_EQ(c.kind, CStep::Failed);
  EXPECT_EQ(c.error, "unsupported_version: this master speaks protocol versions [1]; the peer "
                     "offered [2,3]");

  ServerLogin server2(lookup(), extras());
  ClientLogin client2("slave", "linux-1", "slavepw");
  hello = client2.hello();
  hello.body["protocol"] = "http";
  EXPECT_EQ(server2.onMessage(hello).reply.body["code"], "unsupported_version");
}

TEST_F(LoginTest, ClientRejectsAChallengeForAnotherVersion) {
  ClientLogin client("slave", "linux-1", "slavepw");
  client.hello();
  Message challenge;
  challenge.type = MsgType::AuthChallenge;
  challenge.body = Json{{"version", 2}, {"scram", "r=x,s=eA==,i=4096"}};
  const CStep c = client.onMessage(challenge);
  EXPECT_EQ(c.kind, CStep::Failed);
  EXPECT_NE(c.error.find("version 2"), std::string::npos) << c.error;
}

TEST_F(LoginTest, BadHellos) {
  auto helloWith = [](const std::function<void(Json&)>& edit) {
    ClientLogin client("slave", "linux-1", "slavepw");
    Message m = client.hello();
    edit(m.body);
    return m;
  };
  struct Case {
    std::function<void(Json&)> edit;
    std::string messagePart;
  };
  const std::vector<Case> cases = {
      {[](Json& b) { b.erase("name"); }, "field 'name' is missing"},
      {[](Json& b) { b["name"] = 7; }, "field 'name' must be a string"},
      {[](Json& b) { b["name"] = ""; }, "name must not be empty"},
      {[](Json& b) { b.erase("scram"); }, "field 'scram' is missing"},
      {[](Json& b) { b["role"] = "admin"; }, "role must be 'slave' or 'client', not 'admin'"},
      {[](Json& b) { b["scram"] = "garbage"; }, "bad SCRAM client-first-message"},
      {[](Json& b) { b["scram"] = "n,,n=linux-2,r=abc"; },
       "SCRAM user 'linux-2' differs from the Hello name 'linux-1'"},
  };
  for (const Case& c : cases) {
    ServerLogin server(lookup(), extras());
    const SStep s = server.onMessage(helloWith(c.edit));
    ASSERT_EQ(s.kind, SStep::Failed) << c.messagePart;
    EXPECT_EQ(s.reply.body["code"], "bad_hello") << c.messagePart;
    EXPECT_NE(s.reply.body["message"].get<std::string>().find(c.messagePart), std::string::npos)
        << s.reply.body["message"];
  }
}

TEST_F(LoginTest, ReplayedAuthProofFails) {
  ClientLogin client("slave", "linux-1", "slavepw");
  ServerLogin server(lookup(), extras());
  const Message hello = client.hello();
  const SStep s1 = server.onMessage(hello);
  const CStep c1 = client.onMessage(s1.reply);
  ASSERT_EQ(server.onMessage(c1.reply).kind, SStep::Done);

  // An eavesdropper replays the recorded Hello and AuthProof.
  ServerLogin server2(lookup(), extras());
  ASSERT_EQ(server2.onMessage(hello).kind, SStep::Send);
  const SStep s2 = server2.onMessage(c1.reply);
  EXPECT_EQ(s2.kind, SStep::Failed);
  EXPECT_EQ(s2.reply.body["code"], "auth_failed");
}

TEST_F(LoginTest, UnexpectedMessagesAreProtocolErrors) {
  ServerLogin server(lookup(), extras());
  Message info;
  info.type = MsgType::SlaveInfo;
  SStep s = server.onMessage(info);
  EXPECT_EQ(s.kind, SStep::Failed);
  EXPECT_EQ(s.reply.body["code"], "protocol_error");
  EXPECT_EQ(s.reply.body["message"], "expected Hello during login, got SlaveInfo");

  ServerLogin server2(lookup(), extras());
  ClientLogin client("slave", "linux-1", "slavepw");
  const Message hello = client.hello();
  ASSERT_EQ(server2.onMessage(hello).kind, SStep::Send);
  s = server2.onMessage(hello);  // a second Hello
  EXPECT_EQ(s.kind, SStep::Failed);
  EXPECT_EQ(s.reply.body["message"], "expected AuthProof during login, got Hello");

  Message proof;
  proof.type = MsgType::AuthProof;
  proof.body = Json{{"scram", "nonsense"}};
  ServerLogin server3(lookup(), extras());
  server3.onMessage(ClientLogin("slave", "linux-1", "x").hello());
  s = server3.onMessage(proof);
  EXPECT_EQ(s.kind, SStep::Failed);
  EXPECT_EQ(s.reply.body["code"], "protocol_error");

  ClientLogin client2("slave", "linux-1", "slavepw");
  client2.hello();
  Message ping;
  ping.type = MsgType::Ping;
  const CStep c = client2.onMessage(ping);
  EXPECT_EQ(c.kind, CStep::Failed);
  EXPECT_EQ(c.error, "unexpected Ping during login");
}

TEST_F(LoginTest, HeartbeatsDuringLoginAreIgnored) {
  ClientLogin client("slave", "linux-1", "slavepw");
  ServerLogin server(lookup(), extras());
  Message hb;
  hb.type = MsgType::Heartbeat;
  EXPECT_EQ(server.onMessage(hb).kind, SStep::Wait);
  const SStep s1 = server.onMessage(client.hello());
  EXPECT_EQ(client.onMessage(hb).kind, CStep::Wait);
  EXPECT_FALSE(client.onMessage(hb).hasReply);
  const CStep c1 = client.onMessage(s1.reply);
  EXPECT_EQ(server.onMessage(hb).kind, SStep::Wait);
  const SStep s2 = server.onMessage(c1.reply);
  EXPECT_EQ(s2.kind, SStep::Done);
  EXPECT_EQ(client.onMessage(s2.reply).kind, CStep::Done);
}

TEST_F(LoginTest, PeerErrorEndsServerLoginWithoutReply) {
  ServerLogin server(lookup(), extras());
  const SStep s = server.onMessage(makeErrorMessage("shutting_down", "bye"));
  EXPECT_EQ(s.kind, SStep::Failed);
  EXPECT_FALSE(s.hasReply);
  EXPECT_EQ(s.error, "peer gave up the login: shutting_down: bye");
}

TEST(LoginKind, Names) {
  EXPECT_EQ(toString(ClientLogin::Step::Send), "Send");
  EXPECT_EQ(toString(ServerLogin::Step::Done), "Done");
  EXPECT_EQ(toString(ServerLogin::Step::Failed), "Failed");
  EXPECT_EQ(toString(ClientLogin::Step::Wait), "Wait");
}

}  // namespace
}  // namespace bb
