// The slave session against a tiny in-test master (a Listener plus a
// ServerLogin): login, SlaveInfo, commands end to end, Ping, refused
// logins, backoff, and killing commands when the connection drops.
#include "slave/slave_session.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "common/connection.hpp"
#include "common/login.hpp"
#include "common/scram.hpp"
#include "slave/child_reaper.hpp"
#include "slave/process_tree.hpp"
#include "slave_test_util.hpp"

namespace bb {
namespace {

// Accepts slaves, logs them in, records what they send.
class FakeMaster {
 public:
  FakeMaster(boost::asio::io_context& io, std::string password)
      : verifier_(makeScramVerifier(std::move(password), 4096)),
        listener_(io, "127.0.0.1", 0, ConnectionOptions{}, [this](std::shared_ptr<Connection> c) {
          onAccept(std::move(c));
        }) {}

  std::uint16_t port() const { return listener_.port(); }
  void send(MsgType t, Json body) { conn->send(t, std::move(body)); }

  std::shared_ptr<Connection> conn;
  std::vector<Message> received;  // after login
  std::optional<Json> slaveInfo;
  std::string output[3];
  std::optional<Json> done;
  int logins = 0;
  int failedLogins = 0;
  std::string closeReason;

 private:
  void onAccept(std::shared_ptr<Connection> c) {
    conn = c;
    auto login = std::make_shared<ServerLogin>(
        [this](const std::string& role, const std::string& name) -> std::optional<std::string> {
          if (role == "slave" && name == "s1") return verifier_;
          return std::nullopt;
        },
        Json{{"master", "fake"}, {"heartbeat_interval_ms", 10000}, {"heartbeat_timeout_ms", 30000},
             {"max_frame", 1 << 20}});
    auto loggedIn = std::make_shared<bool>(false);
    std::weak_ptr<Connection> weak = c;
    c->start(
        [this, login, loggedIn, weak](Message&& m) {
          auto self = weak.lock();
          if (!self) return;
          if (!*loggedIn) {
            auto step = login->onMessage(m);
            if (step.hasReply) self->send(step.reply);
            if (step.kind == ServerLogin::Step::Done) {
              *loggedIn = true;
              ++logins;
            } else if (step.kind == ServerLogin::Step::Failed) {
              ++failedLogins;
              self->close(step.error);
            }
            return;
          }
          if (m.type == MsgType::SlaveInfo) slaveInfo = m.body;
          if (m.type == MsgType::Output) {
            auto& bin = m.body["data"].get_binary();
            output[m.body["stream"].get<int>()].append(bin.begin(), bin.end());
          }
          if (m.type == MsgType::CommandDone) done = m.body;
          received.push_back(std::move(m));
        },
        [this](const std::string& reason) { closeReason = reason; });
  }

  std::string verifier_;
  Listener listener_;
};

class SlaveSessionTest : public ::testing::Test {
 protected:
  SlaveConfig config(std::uint16_t port, std::string password = "secret") {
    SlaveConfig c;
    c.masterHost = "127.0.0.1";
    c.masterPort = port;
    c.name = "s1";
    c.password = std::move(password);
    c.basedir = base.path();
    c.reconnectMin = std::chrono::milliseconds(1000);
    c.reconnectMax = std::chrono::milliseconds(8000);
    return c;
  }

  test::TempDir base;
  boost::asio::io_context io;
  ManualClock clock;
  ChildReaper reaper{io};
};

TEST_F(SlaveSessionTest, LogsInSendsSlaveInfoAndRunsACommandEndToEnd) {
  FakeMaster master(io, "secret");
  SlaveSession slave(io, clock, reaper, config(master.port()));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo.has_value(); }));
  EXPECT_EQ(slave.state(), SlaveState::Ready);
  EXPECT_EQ((*master.slaveInfo)["version"], "0.1.0");
  EXPECT_EQ((*master.slaveInfo)["basedir"], base.path());
  EXPECT_GE((*master.slaveInfo)["cpus"].get<int>(), 1);
  EXPECT_FALSE((*master.slaveInfo)["host"].get<std::string>().empty());

  master.send(MsgType::Ping, {{"id", 42}});
  master.send(MsgType::RunCommand, {{"cmd_id", 1},
                                    {"kind", "shell"},
                                    {"credit", 1 << 20},
                                    {"args", {{"command", "echo hi; echo err >&2"},
                                              {"workdir", "b/build"}}}});
  ASSERT_TRUE(test::runUntil(io, [&] { return master.done.has_value(); }));
  EXPECT_EQ(master.output[0], "hi\n");
  EXPECT_EQ(master.output[1], "err\n");
  EXPECT_NE(master.output[2].find("exit code 0\n"), std::string::npos);
  EXPECT_EQ((*master.done)["rc"], 0);
  EXPECT_EQ((*master.done)["cmd_id"], 1);
  bool pong = false;
  for (const auto& m : master.received)
    if (m.type == MsgType::Pong && m.body["id"] == 42) pong = true;
  EXPECT_TRUE(pong);
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.runningCommands() == 0; }));

  // A command the slave cannot run fails that command, not the session.
  master.done.reset();
  master.send(MsgType::RunCommand,
              {{"cmd_id", 2}, {"kind", "teleport"}, {"credit", 100}, {"args", Json::object()}});
  ASSERT_TRUE(test::runUntil(io, [&] { return master.done.has_value(); }));
  EXPECT_EQ((*master.done)["rc"], -1);
  EXPECT_NE((*master.done)["error"].get<std::string>().find("unknown command kind 'teleport'"),
            std::string::npos);
  EXPECT_EQ(slave.state(), SlaveState::Ready);
}

TEST_F(SlaveSessionTest, CreditGatesOutputOverTheWire) {
  FakeMaster master(io, "secret");
  SlaveSession slave(io, clock, reaper, config(master.port()));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo.has_value(); }));
  master.send(MsgType::RunCommand, {{"cmd_id", 5},
                                    {"kind", "shell"},
                                    {"credit", 0},
                                    {"args", {{"command", "echo payload"}}}});
  // Nothing may arrive; a Ping round trip proves the slave has processed
  // the RunCommand and had time to read its pipes.
  for (int i = 0; i < 3; ++i) {
    std::size_t before = master.received.size();
    master.send(MsgType::Ping, {{"id", i}});
    ASSERT_TRUE(test::runUntil(io, [&] { return master.received.size() > before; }));
  }
  EXPECT_TRUE(master.output[0].empty() && master.output[2].empty());
  master.send(MsgType::Credit, {{"cmd_id", 5}, {"bytes", 1 << 20}});
  ASSERT_TRUE(test::runUntil(io, [&] { return master.done.has_value(); }));
  EXPECT_EQ(master.output[0], "payload\n");
}

TEST_F(SlaveSessionTest, ARefusedLoginIsBackedOffAndRetried) {
  FakeMaster master(io, "secret");
  SlaveSession slave(io, clock, reaper, config(master.port(), "wrong"));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
  EXPECT_EQ(master.failedLogins, 1);
  EXPECT_NE(slave.lastFailure().find("login refused by master: auth_failed"), std::string::npos)
      << slave.lastFailure();
  EXPECT_GE(slave.lastDelay().count(), 750);
  EXPECT_LE(slave.lastDelay().count(), 1250);
  clock.advance(slave.lastDelay());
  ASSERT_TRUE(test::runUntil(io, [&] { return master.failedLogins == 2 &&
                                              slave.state() == SlaveState::Backoff; }));
  EXPECT_EQ(slave.attempts(), 2);
  EXPECT_GE(slave.lastDelay().count(), 1500);
  EXPECT_LE(slave.lastDelay().count(), 2500);
}

TEST_F(SlaveSessionTest, ConnectionRefusedBacksOffExponentiallyUpToTheMax) {
  std::uint16_t port;
  {
    FakeMaster gone(io, "x");  // take a free port, then close it
    port = gone.port();
  }
  SlaveSession slave(io, clock, reaper, config(port));
  slave.start();
  std::vector<long> delays;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
    EXPECT_NE(slave.lastFailure().find("refused"), std::string::npos) << slave.lastFailure();
    delays.push_back(slave.lastDelay().count());
    clock.advance(slave.lastDelay());
    ASSERT_EQ(slave.state(), SlaveState::Connecting);
  }
  long base[] = {1000, 2000, 4000, 8000, 8000, 8000};
  for (int i = 0; i < 6; ++i) {
    EXPECT_GE(delays[i], base[i] * 3 / 4) << i;
    EXPECT_LE(delays[i], base[i] * 5 / 4) << i;
  }
  EXPECT_EQ(SlaveSession::backoffDelay(1, std::chrono::milliseconds(500),
                                       std::chrono::milliseconds(60000)).count(), 500);
  EXPECT_EQ(SlaveSession::backoffDelay(20, std::chrono::milliseconds(500),
                                       std::chrono::milliseconds(60000)).count(), 60000);
}

TEST_F(SlaveSessionTest, LosingTheMasterKillsRunningCommandsThenReconnects) {
  FakeMaster master(io, "secret");
  SlaveSession slave(io, clock, reaper, config(master.port()));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo.has_value(); }));
  master.send(MsgType::RunCommand, {{"cmd_id", 9},
                                    {"kind", "shell"},
                                    {"credit", 1 << 20},
                                    {"args", {{"command", "sleep 300 & echo $!; wait"}}}});
  ASSERT_TRUE(test::runUntil(io, [&] { return master.output[0].find('\n') != std::string::npos; }));
  pid_t sleeper = std::stoi(master.output[0]);
  ASSERT_TRUE(isAlive(sleeper));
  master.conn->close("test drops the slave");
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.runningCommands() == 0; }));
  EXPECT_FALSE(isAlive(sleeper));
  clock.advance(slave.lastDelay());
  ASSERT_TRUE(test::runUntil(io, [&] { return master.logins == 2; }));
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Ready; }));
}

// A slave of a cluster (masters: [...]) moves to the next master when it
// loses one, round robin, and skips one that refuses the connection.
TEST_F(SlaveSessionTest, WithSeveralMastersALostOrDeadMasterSendsTheSlaveToTheNext) {
  FakeMaster a(io, "secret"), b(io, "secret");
  std::uint16_t deadPort;
  {
    FakeMaster gone(io, "x");
    deadPort = gone.port();
  }
  SlaveConfig c = config(a.port());
  c.masters = {{"127.0.0.1", deadPort, ""}, {"127.0.0.1", a.port(), ""}, {"127.0.0.1", b.port(), ""}};
  SlaveSession slave(io, clock, reaper, c);
  slave.start();
  // The first is down: refused, then the second one.
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
  EXPECT_NE(slave.lastFailure().find("refused"), std::string::npos) << slave.lastFailure();
  EXPECT_EQ(slave.currentMaster(), 1u);
  clock.advance(slave.lastDelay());
  ASSERT_TRUE(test::runUntil(io, [&] { return a.slaveInfo.has_value() && slave.state() == SlaveState::Ready; }));
  EXPECT_EQ(b.logins, 0);
  // A drops it: B next, after the shortest back-off (a login reset the count).
  a.conn->close("master a goes away");
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
  EXPECT_EQ(slave.currentMaster(), 2u);
  EXPECT_LE(slave.lastDelay().count(), 1250);
  clock.advance(slave.lastDelay());
  ASSERT_TRUE(test::runUntil(io, [&] { return b.slaveInfo.has_value() && slave.state() == SlaveState::Ready; }));
  EXPECT_EQ(a.logins, 1);
  // B drops it: round robin to the dead one, then A again.
  b.conn->close("master b goes away");
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
  EXPECT_EQ(slave.currentMaster(), 0u);
  clock.advance(slave.lastDelay());
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff && slave.currentMaster() == 1u; }));
  clock.advance(slave.lastDelay());
  ASSERT_TRUE(test::runUntil(io, [&] { return a.logins == 2 && slave.state() == SlaveState::Ready; }));
  EXPECT_EQ(b.logins, 1);
}

TEST_F(SlaveSessionTest, StopKillsCommandsAndReportsWhenTreesAreGone) {
  FakeMaster master(io, "secret");
  SlaveSession slave(io, clock, reaper, config(master.port()));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo.has_value(); }));
  master.send(MsgType::RunCommand, {{"cmd_id", 1},
                                    {"kind", "shell"},
                                    {"credit", 1 << 20},
                                    {"args", {{"command", "echo $$; exec sleep 300"}}}});
  ASSERT_TRUE(test::runUntil(io, [&] { return master.output[0].find('\n') != std::string::npos; }));
  pid_t pid = std::stoi(master.output[0]);
  bool stopped = false;
  slave.stop([&] { stopped = true; });
  ASSERT_TRUE(test::runUntil(io, [&] { return stopped; }));
  EXPECT_FALSE(isAlive(pid));
  EXPECT_EQ(slave.state(), SlaveState::Stopped);
  ASSERT_TRUE(test::runUntil(io, [&] { return !master.closeReason.empty(); }));
}

}  // namespace
}  // namespace bb

namespace bb {
namespace {

TEST_F(SlaveSessionTest, AFailedAttemptLeavesNoConnectDeadlineBehind) {
  std::uint16_t port;
  {
    FakeMaster gone(io, "x");
    port = gone.port();
  }
  SlaveConfig c = config(port);
  c.reconnectMin = std::chrono::milliseconds(60000);
  c.reconnectMax = std::chrono::milliseconds(60000);
  c.heartbeatTimeout = std::chrono::seconds(30);
  SlaveSession slave(io, clock, reaper, c);
  int backoffs = 0;
  slave.setStateObserver([&](SlaveState s) { backoffs += s == SlaveState::Backoff; });
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
  // Past the 30 s connect deadline, still inside the >= 45 s backoff.
  clock.advance(std::chrono::seconds(31));
  for (int i = 0; i < 10; ++i) io.poll();
  EXPECT_EQ(backoffs, 1);
  EXPECT_EQ(slave.attempts(), 1);
}

}  // namespace
}  // namespace bb
