// A client written from docs/protocol.md, played by RawPeer: requests
// with missing parameters or unknown methods, paging a log larger than a
// frame, and sessions closed for bad frames, silence or a full write
// queue, each of which must leave a log line. Also what a peer sends
// before login: it must never forge a line in the master's log.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"
#include "tests/functional/raw_peer.hpp"

namespace bb::test {
namespace {

// One slave s1 and a builder whose step prints `bytes` bytes of output.
std::string clientProtocolConfig(int port, int bytes, const std::string& masterExtra = "") {
  const std::string q = "\"" + verifier() + "\"";
  return "master: {name: t, slave_port: " + std::to_string(port) + masterExtra + "}\n" +
         "slaves: [{name: s1, password: " + q + "}]\n" +
         "users: [{name: alice, password: " + q + ", may: [force, status]}]\n" +
         "builders: [{name: b1, slaves: [s1], steps: [{shell: {name: big, command: \"head -c " +
         std::to_string(bytes) + " /dev/zero | tr '\\\\0' x\"}}]}]\n" +
         "schedulers: [{name: force, type: force, builders: [b1]}]\n";
}

struct Master {
  explicit Master(int bytes, const std::string& extra = "") : master(tmp.sub("master")) {
    master.create();
    master.writeConfig(clientProtocolConfig(master.port(), bytes, extra));
    master.setAuth("alice", "pw");
    master.start();
  }
  Json request(RawPeer& p, const std::string& method, Json params) {
    p.send(MsgType::Request, Json{{"id", ++id}, {"method", method}, {"params", std::move(params)}});
    auto r = p.waitFor(MsgType::Response);
    if (!r) throw std::runtime_error("no response to " + method + "\n" + master.log());
    return r->body;
  }
  // Runs the one build with a real slave and returns its stdio log id.
  std::int64_t buildLog() {
    SlaveProcess s(tmp.sub("s1"), master.port(), "s1", "pw");
    s.create();
    s.start();
    auto r = master.client({"force", "--scheduler", "force", "--wait"}, 120s);
    if (r.rc != 0) throw std::runtime_error(r.describe() + master.log());
    auto rows = sqlite(master.dbPath(), "SELECT id FROM logs ORDER BY id LIMIT 1");
    return std::stoll(rows.at(0).at(0));
  }
  TempDir tmp;
  MasterProcess master;
  int id = 0;
};

std::string code(const Json& resp) { return resp["error"].value("code", ""); }

TEST(ClientProtocol, MissingParametersAreBadRequestAndUnknownMethodsAreNotAPermissionProblem) {
  Master m(10);
  RawPeer p(m.master.port());
  p.login("client", "alice", "pw");
  EXPECT_EQ(code(m.request(p, "build", Json{{"builder", "b1"}})), "bad_request");
  EXPECT_EQ(code(m.request(p, "build", Json{{"number", 1}})), "bad_request");
  EXPECT_EQ(code(m.request(p, "build", Json{{"builder", "b1"}, {"number", 1}})), "not_found");
  EXPECT_EQ(code(m.request(p, "log", Json::object())), "bad_request");
  EXPECT_EQ(code(m.request(p, "buildset", Json::object())), "bad_request");
  EXPECT_EQ(code(m.request(p, "change_status", Json::object())), "bad_request");
  const Json unknown = m.request(p, "frobnicate", Json::object());
  EXPECT_EQ(code(unknown), "bad_request") << unknown.dump();
  EXPECT_EQ(unknown["error"].value("message", "").find("may"), std::string::npos)
      << "no hint to add an unknown method to the may list: " << unknown.dump();
  // A known method the user may not call is still not_permitted.
  EXPECT_EQ(code(m.request(p, "sendchange", Json{{"author", "a"}})), "not_permitted");
}

TEST(ClientProtocol, ALogLargerThanAFrameIsReadPageByPage) {
  const int kBytes = 1500000;  // more than the default 1 MiB frame
  Master m(kBytes);
  const std::int64_t logId = m.buildLog();
  RawPeer p(m.master.port());
  p.login("client", "alice", "pw");
  const Json tooBig = m.request(p, "log", Json{{"log_id", logId}, {"max_bytes", 1 << 20}});
  EXPECT_EQ(code(tooBig), "bad_request") << tooBig.dump();
  std::int64_t offset = 0;
  std::size_t pages = 0;
  std::string all;
  while (true) {
    const Json r = m.request(p, "log", Json{{"log_id", logId}, {"offset", offset}});
    ASSERT_TRUE(r.value("ok", false)) << r.dump();
    EXPECT_LE(p.lastPayloadSize(), 1u << 20) << "no reply exceeds the frame limit";
    const Json& res = r["result"];
    ASSERT_TRUE(res["data"].is_binary());
    const auto& data = res["data"].get_binary();
    EXPECT_LE(data.size(), 262144u) << "the default page";
    all.append(data.begin(), data.end());
    EXPECT_EQ(res.value("offset", -1), offset);
    EXPECT_EQ(res.value("next_offset", -1), offset + static_cast<std::int64_t>(data.size()));
    offset = res.value("next_offset", 0);
    ++pages;
    if (!res.value("more", true)) {
      EXPECT_TRUE(res.value("finished", false));
      EXPECT_EQ(res.value("size", -1), offset);
      break;
    }
    ASSERT_LT(pages, 100u);
  }
  EXPECT_GE(pages, 6u);
  EXPECT_EQ(all.size(), static_cast<std::size_t>(offset));
  EXPECT_NE(all.find(std::string(kBytes, 'x')), std::string::npos) << "the output in one piece, in order";
  EXPECT_EQ(all.find(std::string(kBytes + 1, 'x')), std::string::npos) << "and only once";
}

TEST(ClientProtocol, ClosedSessionsLeaveALogLine) {
  Master m(400000, ", heartbeat_interval: 1, heartbeat_timeout: 2");
  const std::int64_t logId = m.buildLog();
  {
    RawPeer p(m.master.port());
    p.login("client", "alice", "pw");
    p.sendFrame(99, {});
    EXPECT_TRUE(p.waitClosed());
    EXPECT_TRUE(m.master.waitForLog("client alice from 127.0.0.1:")) << m.master.log();
    EXPECT_TRUE(m.master.waitForLog("unknown message type 99")) << m.master.log();
  }
  {
    RawPeer p(m.master.port());
    p.login("client", "alice", "pw");
    // Silent (no heartbeats, nothing read): closed after heartbeat_timeout.
    EXPECT_TRUE(m.master.waitForLog("disconnected: heartbeat timeout", 20s)) << m.master.log();
  }
  {
    RawPeer p(m.master.port());
    p.login("client", "alice", "pw");
    // Asks for far more than the 16 MiB write queue and reads none of it.
    for (int i = 0; i < 120; ++i)
      p.send(MsgType::Request, Json{{"id", i}, {"method", "log"},
                                    {"params", {{"log_id", logId}, {"max_bytes", 262144}}}});
    EXPECT_TRUE(m.master.waitForLog("write queue overflow", 20s)) << m.master.log();
  }
  EXPECT_TRUE(m.master.running());
}

TEST(ClientProtocol, PeerTextCannotForgeALogLine) {
  Master m(10);
  {
    RawPeer p(m.master.port());
    const std::string forged = "x\n2026-01-01 00:00:00.000 [info] build b1 #1 finished: success";
    try {
      p.login("client", forged, "pw");
    } catch (const std::exception&) {
    }
    RawPeer q(m.master.port());
    q.send(MsgType::Hello, Json{{"protocol", "bbcpp\nFORGED-PROTO"}, {"versions", {1}},
                                {"role", "client"}, {"name", "n"}, {"scram", "n,,n=n,r=abcdefgh"}});
    auto err = q.waitFor(MsgType::Error);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->body.value("code", ""), "unsupported_version");
    EXPECT_EQ(err->body.value("message", "").find('\n'), std::string::npos) << err->body.dump();
  }
  ASSERT_TRUE(m.master.waitForLog("FORGED-PROTO")) << m.master.log();
  ASSERT_TRUE(m.master.waitForLog("finished: success")) << m.master.log();
  const std::string log = m.master.log();
  EXPECT_EQ(log.find("\n2026-01-01 00:00:00.000 [info] build b1"), std::string::npos) << log;
  EXPECT_EQ(log.find("\nFORGED-PROTO"), std::string::npos) << log;
  EXPECT_NE(log.find("x\\n2026-01-01"), std::string::npos) << log;
}

}  // namespace
}  // namespace bb::test
