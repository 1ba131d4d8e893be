// A slave written by someone else, played by RawPeer: in the middle of a
// build it sends each kind of malformed message. The master must answer
// Error {protocol_error}, close that connection only, end the build with a
// final result (EXCEPTION, "broke the protocol"), complete its request and
// BuildSet, free the slot, and build again for the same slave once it
// behaves.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "tests/functional/harness.hpp"
#include "tests/functional/raw_peer.hpp"

namespace bb::test {
namespace {

struct Hostile {
  std::string name;
  // Misbehaves, given the RunCommand it received.
  std::function<void(RawPeer&, const Message& run)> act;
};

std::vector<std::uint8_t> bytes(std::initializer_list<int> v) {
  std::vector<std::uint8_t> out;
  for (int b : v) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

Json done(std::int64_t id) {
  return Json{{"cmd_id", id}, {"rc", 0}, {"signal", 0}, {"timed_out", false},
              {"interrupted", false}, {"error", ""}, {"props", Json::object()}};
}

std::int64_t cmdId(const Message& run) { return getInt(run.body, "cmd_id"); }

std::vector<Hostile> hostileSlaves() {
  return {
      {"CommandDone with props that are not UTF-8",
       [](RawPeer& p, const Message& run) {
         Json d = done(cmdId(run));
         d["props"] = Json{{"got_revision", std::string("\xff\xfe", 2)}};
         p.send(MsgType::CommandDone, d);
       }},
      {"CommandDone with an error text that is not UTF-8",
       [](RawPeer& p, const Message& run) {
         Json d = done(cmdId(run));
         d["error"] = std::string("bad \xc3\x28", 6);
         p.send(MsgType::CommandDone, d);
       }},
      {"CommandDone with a mistyped field",
       [](RawPeer& p, const Message& run) {
         Json d = done(cmdId(run));
         d["timed_out"] = "no";
         p.send(MsgType::CommandDone, d);
       }},
      {"CommandDone for a command never started",
       [](RawPeer& p, const Message& run) { p.send(MsgType::CommandDone, done(cmdId(run) + 1000)); }},
      {"Output for a command never started",
       [](RawPeer& p, const Message& run) {
         p.send(MsgType::Output, Json{{"cmd_id", cmdId(run) + 7}, {"stream", 0},
                                      {"data", Json::binary({'x'})}});
       }},
      {"Output as a string instead of bin",
       [](RawPeer& p, const Message& run) {
         p.send(MsgType::Output, Json{{"cmd_id", cmdId(run)}, {"stream", 0}, {"data", "text"}});
       }},
      {"Output over the 64 KiB chunk limit",
       [](RawPeer& p, const Message& run) {
         p.send(MsgType::Output, Json{{"cmd_id", cmdId(run)}, {"stream", 0},
                                      {"data", Json::binary(std::vector<std::uint8_t>(65537, 'x'))}});
       }},
      {"a second SlaveInfo",
       [](RawPeer& p, const Message&) { p.send(MsgType::SlaveInfo, RawPeer::slaveInfo()); }},
      {"a master-only message type",
       [](RawPeer& p, const Message& run) { p.send(MsgType::Credit, Json{{"cmd_id", cmdId(run)}, {"bytes", 1}}); }},
      {"an unknown message type", [](RawPeer& p, const Message&) { p.sendFrame(99, {}); }},
      {"a payload that is not MessagePack",
       [](RawPeer& p, const Message&) { p.sendFrame(22, bytes({0x81, 0xc1})); }},
      {"a frame with flags", [](RawPeer& p, const Message&) { p.sendRaw(bytes({0, 0, 0, 0, 0, 10, 0, 1})); }},
      {"a frame over the size limit",
       [](RawPeer& p, const Message&) { p.sendRaw(bytes({0x7f, 0, 0, 0, 0, 22, 0, 0})); }},
  };
}

std::string hostileSlaveOne(const MasterProcess& m, const std::string& sql) {
  auto rows = sqlite(m.dbPath(), sql);
  return rows.empty() || rows[0].empty() ? "" : rows[0][0];
}

// Logs in as s1 and sends SlaveInfo; returns once the master took it.
std::unique_ptr<RawPeer> slave(const MasterProcess& m) {
  auto p = std::make_unique<RawPeer>(m.port());
  p->login("slave", "s1", "pw");
  p->send(MsgType::SlaveInfo, RawPeer::slaveInfo());
  return p;
}

TEST(HostileSlave, EachMalformedMessageEndsTheBuildAndTheSlaveBuildsAgain) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string v = makeVerifier("pw");
  master.writeConfig(basicMasterYaml(master.port(), v, v));
  master.setAuth("alice", "pw");
  master.start();
  const auto cases = hostileSlaves();
  int number = 0;
  for (const Hostile& h : cases) {
    SCOPED_TRACE(h.name);
    auto peer = slave(master);
    ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0) << master.log();
    auto run = peer->waitFor(MsgType::RunCommand);
    ASSERT_TRUE(run) << master.log();
    ++number;
    h.act(*peer, *run);
    auto err = peer->waitFor(MsgType::Error);
    ASSERT_TRUE(err) << master.log();
    EXPECT_EQ(err->body.value("code", ""), "protocol_error") << err->body.dump();
    EXPECT_TRUE(peer->waitClosed()) << "the master closes the connection after the Error";
    const std::string where = "builder='b1' AND number=" + std::to_string(number);
    ASSERT_TRUE(waitFor([&] { return hostileSlaveOne(master, "SELECT finished FROM builds WHERE " + where) == "1"; }, 20s))
        << master.log();
    EXPECT_EQ(hostileSlaveOne(master, "SELECT result FROM builds WHERE " + where), "4") << "EXCEPTION";
    EXPECT_NE(hostileSlaveOne(master, "SELECT text FROM builds WHERE " + where).find("broke the protocol"), std::string::npos)
        << hostileSlaveOne(master, "SELECT text FROM builds WHERE " + where);
    const std::string req = "(SELECT request_id FROM builds WHERE " + where + ")";
    EXPECT_EQ(hostileSlaveOne(master, "SELECT CAST(complete AS TEXT) || CAST(result AS TEXT) FROM buildrequests WHERE id=" + req), "14");
    EXPECT_EQ(hostileSlaveOne(master, "SELECT complete FROM buildsets WHERE id=(SELECT buildset_id FROM buildrequests "
                          "WHERE id=" + req + ")"), "1");
  }
  // The slot is free and the master healthy: a well-behaved session builds.
  auto peer = slave(master);
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  auto run = peer->waitFor(MsgType::RunCommand);
  ASSERT_TRUE(run) << master.log();
  peer->send(MsgType::Output, Json{{"cmd_id", cmdId(*run)}, {"stream", 0}, {"data", Json::binary({'o', 'k', '\n'})}});
  peer->send(MsgType::CommandDone, done(cmdId(*run)));
  ++number;
  ASSERT_TRUE(waitFor([&] {
    return hostileSlaveOne(master, "SELECT CAST(finished AS TEXT) || CAST(result AS TEXT) FROM builds WHERE number=" + std::to_string(number)) == "10";
  }, 20s)) << master.log();
  EXPECT_TRUE(master.running());
  auto status = master.client({"status"});
  EXPECT_EQ(status.rc, 0) << status.describe();
}

TEST(HostileSlave, NoBuildStartsOnASlaveThatNeverSentSlaveInfo) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string v = makeVerifier("pw");
  master.writeConfig(basicMasterYaml(master.port(), v, v));
  master.setAuth("alice", "pw");
  master.start();
  RawPeer peer(master.port());
  peer.login("slave", "s1", "pw");
  ASSERT_TRUE(master.waitForLog("slave s1 connected"));
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  // Nothing but heartbeats may come: no Ping for a claim, no RunCommand.
  auto m = peer.next(3s);
  EXPECT_FALSE(m) << "got " << toString(m->type);
  EXPECT_EQ(hostileSlaveOne(master, "SELECT count(*) FROM builds"), "0");
  peer.send(MsgType::SlaveInfo, RawPeer::slaveInfo());
  EXPECT_TRUE(peer.waitFor(MsgType::RunCommand)) << master.log();
}

TEST(HostileSlave, SlaveInfoWithAMissingOrMistypedFieldCloses) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string v = makeVerifier("pw");
  master.writeConfig(basicMasterYaml(master.port(), v, v));
  master.start();
  for (const char* field : {"host", "cpus", "basedir"}) {
    for (bool drop : {true, false}) {
      SCOPED_TRACE(std::string(field) + (drop ? " missing" : " mistyped"));
      RawPeer peer(master.port());
      peer.login("slave", "s1", "pw");
      Json info = RawPeer::slaveInfo();
      if (drop) info.erase(field);
      else info[field] = Json::array({1});
      peer.send(MsgType::SlaveInfo, info);
      auto err = peer.waitFor(MsgType::Error);
      ASSERT_TRUE(err);
      EXPECT_EQ(err->body.value("code", ""), "protocol_error");
      EXPECT_NE(err->body.value("message", "").find(field), std::string::npos) << err->body.dump();
      EXPECT_TRUE(peer.waitClosed());
    }
  }
}

TEST(HostileSlave, ADuplicateLoginGetsErrorInsteadOfWelcome) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  master.create();
  const std::string v = makeVerifier("pw");
  master.writeConfig(basicMasterYaml(master.port(), v, v));
  master.start();
  auto first = slave(master);
  ASSERT_TRUE(master.waitForLog("slave s1 connected"));
  // The first session stays alive: it answers the master's Ping.
  std::atomic<bool> stop{false};
  std::thread alive([&] {
    while (!stop) first->next(100ms);
  });
  std::string refused;
  try {
    RawPeer second(master.port());
    second.login("slave", "s1", "pw");
  } catch (const std::exception& e) {
    refused = e.what();
  }
  stop = true;
  alive.join();
  EXPECT_NE(refused.find("duplicate_slave"), std::string::npos)
      << "the second login must end with Error duplicate_slave, not Welcome: '" << refused << "'";
  EXPECT_TRUE(master.waitForLog("already connected")) << master.log();
  EXPECT_FALSE(first->closed()) << "the first session goes on";
}

}  // namespace
}  // namespace bb::test
