// The slave's side of a graceful stop against a tiny in-test master:
// ShutdownRequest, still running the commands of its builds while
// draining, ShutdownReady ends it without a reconnect, and the cases that
// stop at once (not logged in, connection lost while draining).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "common/connection.hpp"
#include "common/login.hpp"
#include "common/scram.hpp"
#include "slave/child_reaper.hpp"
#include "slave/slave_session.hpp"
#include "slave_test_util.hpp"

namespace bb {
namespace {

// Accepts slave s1 (password "secret"), records what it sends after login.
class DrainMaster {
 public:
  explicit DrainMaster(boost::asio::io_context& io)
      : verifier_(makeScramVerifier("secret", 4096)),
        listener_(io, "127.0.0.1", 0, ConnectionOptions{},
                  [this](std::shared_ptr<Connection> c) { onAccept(std::move(c)); }) {}

  std::uint16_t port() const { return listener_.port(); }
  void send(MsgType t, Json body) { conn->send(t, std::move(body)); }
  int count(MsgType t) const {
    int n = 0;
    for (const auto& m : received) n += m.type == t;
    return n;
  }

  std::shared_ptr<Connection> conn;
  std::vector<Message> received;
  bool slaveInfo = false;
  int logins = 0;
  std::string closeReason;
  std::string stdoutText;

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
    closeReason.clear();
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
            }
            return;
          }
          if (m.type == MsgType::SlaveInfo) slaveInfo = true;
          if (m.type == MsgType::Output && m.body["stream"] == 0) {
            auto& bin = m.body["data"].get_binary();
            stdoutText.append(bin.begin(), bin.end());
          }
          received.push_back(std::move(m));
        },
        [this](const std::string& reason) { closeReason = reason; });
  }

  std::string verifier_;
  Listener listener_;
};

class SlaveGracefulStopTest : public ::testing::Test {
 protected:
  SlaveConfig config(std::uint16_t port) {
    SlaveConfig c;
    c.masterHost = "127.0.0.1";
    c.masterPort = port;
    c.name = "s1";
    c.password = "secret";
    c.basedir = base.path();
    c.reconnectMin = std::chrono::milliseconds(1000);
    c.reconnectMax = std::chrono::milliseconds(8000);
    return c;
  }

  // Advances past any reconnect delay and lets the loop run: a slave that
  // meant to reconnect would have logged in again.
  void passReconnectTime() {
    clock.advance(std::chrono::seconds(20));
    for (int i = 0; i < 20; ++i) io.poll();
  }

  test::TempDir base;
  boost::asio::io_context io;
  ManualClock clock;
  ChildReaper reaper{io};
};

TEST_F(SlaveGracefulStopTest, RunsItsBuildsCommandsThenLeavesOnShutdownReady) {
  DrainMaster master(io);
  SlaveSession slave(io, clock, reaper, config(master.port()));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo; }));
  bool stopped = false;
  slave.stopGracefully([&] { stopped = true; });
  EXPECT_EQ(slave.state(), SlaveState::Draining);
  ASSERT_TRUE(test::runUntil(io, [&] { return master.count(MsgType::ShutdownRequest) == 1; }));
  slave.stopGracefully([&] { stopped = true; });  // a second request changes nothing
  EXPECT_EQ(slave.state(), SlaveState::Draining);

  // The next step of a running build still runs while draining.
  master.send(MsgType::RunCommand, {{"cmd_id", 1},
                                    {"kind", "shell"},
                                    {"credit", 1 << 20},
                                    {"args", {{"command", "echo next step"}}}});
  ASSERT_TRUE(test::runUntil(io, [&] { return master.count(MsgType::CommandDone) == 1; }));
  EXPECT_EQ(master.stdoutText, "next step\n");
  EXPECT_FALSE(stopped);
  EXPECT_EQ(slave.state(), SlaveState::Draining);

  master.send(MsgType::ShutdownReady, Json::object());
  ASSERT_TRUE(test::runUntil(io, [&] { return stopped; }));
  EXPECT_EQ(slave.state(), SlaveState::Stopped);
  ASSERT_TRUE(test::runUntil(io, [&] { return !master.closeReason.empty(); }));
  EXPECT_EQ(master.count(MsgType::Error), 0) << "a graceful stop closes without an Error";
  EXPECT_EQ(master.count(MsgType::ShutdownRequest), 1);
  passReconnectTime();
  EXPECT_EQ(master.logins, 1) << "no reconnect";
  EXPECT_EQ(slave.attempts(), 1);
}

TEST_F(SlaveGracefulStopTest, NotLoggedInItStopsAtOnce) {
  std::uint16_t port;
  {
    DrainMaster gone(io);  // a free port, then nothing listens there
    port = gone.port();
  }
  SlaveSession slave(io, clock, reaper, config(port));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
  bool stopped = false;
  slave.stopGracefully([&] { stopped = true; });
  ASSERT_TRUE(test::runUntil(io, [&] { return stopped; }));
  EXPECT_EQ(slave.state(), SlaveState::Stopped);
  passReconnectTime();
  EXPECT_EQ(slave.attempts(), 1);
}

TEST_F(SlaveGracefulStopTest, LosingTheMasterWhileDrainingStopsWithoutReconnecting) {
  DrainMaster master(io);
  SlaveSession slave(io, clock, reaper, config(master.port()));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo; }));
  master.send(MsgType::RunCommand, {{"cmd_id", 1},
                                    {"kind", "shell"},
                                    {"credit", 1 << 20},
                                    {"args", {{"command", "echo up; exec sleep 300"}}}});
  ASSERT_TRUE(test::runUntil(io, [&] { return master.stdoutText == "up\n"; }));
  bool stopped = false;
  slave.stopGracefully([&] { stopped = true; });
  ASSERT_TRUE(test::runUntil(io, [&] { return master.count(MsgType::ShutdownRequest) == 1; }));
  EXPECT_EQ(slave.runningCommands(), 1u) << "draining does not kill the build's command";
  master.conn->close("test drops the slave");
  ASSERT_TRUE(test::runUntil(io, [&] { return stopped; }));
  EXPECT_EQ(slave.state(), SlaveState::Stopped);
  EXPECT_EQ(slave.runningCommands(), 0u);
  passReconnectTime();
  EXPECT_EQ(master.logins, 1);
}

TEST_F(SlaveGracefulStopTest, PlainStopCutsADrainShort) {
  DrainMaster master(io);
  SlaveSession slave(io, clock, reaper, config(master.port()));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo; }));
  master.send(MsgType::RunCommand, {{"cmd_id", 1},
                                    {"kind", "shell"},
                                    {"credit", 1 << 20},
                                    {"args", {{"command", "echo up; exec sleep 300"}}}});
  ASSERT_TRUE(test::runUntil(io, [&] { return master.stdoutText == "up\n"; }));
  bool gracefulDone = false, stopped = false;
  slave.stopGracefully([&] { gracefulDone = true; });
  ASSERT_TRUE(test::runUntil(io, [&] { return master.count(MsgType::ShutdownRequest) == 1; }));
  slave.stop([&] { stopped = true; });
  ASSERT_TRUE(test::runUntil(io, [&] { return stopped; }));
  EXPECT_EQ(slave.state(), SlaveState::Stopped);
  EXPECT_EQ(slave.runningCommands(), 0u);
  EXPECT_FALSE(gracefulDone) << "the plain stop's callback replaces the graceful one";
}

TEST_F(SlaveGracefulStopTest, AnUnaskedShutdownReadyIsAProtocolError) {
  DrainMaster master(io);
  SlaveSession slave(io, clock, reaper, config(master.port()));
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo; }));
  master.send(MsgType::ShutdownReady, Json::object());
  ASSERT_TRUE(test::runUntil(io, [&] { return master.count(MsgType::Error) == 1; }));
  EXPECT_EQ(master.received.back().body.value("code", ""), "protocol_error");
  EXPECT_NE(master.received.back().body.value("message", "").find("without a ShutdownRequest"),
            std::string::npos);
  ASSERT_TRUE(test::runUntil(io, [&] { return slave.state() == SlaveState::Backoff; }));
}

TEST_F(SlaveGracefulStopTest, AShutdownReadyWithAReasonStopsTheSlaveTheMasterDrained) {
  DrainMaster master(io);
  SlaveSession slave(io, clock, reaper, config(master.port()));
  bool stopped = false;
  slave.onStoppedByMaster([&] { stopped = true; });
  slave.start();
  ASSERT_TRUE(test::runUntil(io, [&] { return master.slaveInfo; }));
  // A graceful stop from the master's web: the slave did not ask.
  master.send(MsgType::ShutdownReady, {{"reason", "stopped by alice: maintenance"}});
  ASSERT_TRUE(test::runUntil(io, [&] { return stopped; }));
  EXPECT_EQ(slave.state(), SlaveState::Stopped);
  ASSERT_TRUE(test::runUntil(io, [&] { return !master.closeReason.empty(); }));
  EXPECT_EQ(master.count(MsgType::Error), 0) << "it closes without an Error";
  EXPECT_EQ(master.count(MsgType::ShutdownRequest), 0);
  passReconnectTime();
  EXPECT_EQ(master.logins, 1) << "no reconnect";
}

}  // namespace
}  // namespace bb
