// RemoteSlave's checks of what a slave sends: SlaveInfo first and well
// typed, Output within the command's credit window and chunk size, and
// Output/CommandDone only for commands this connection is running.
#include "master/slaves/remote_slave.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace bb {
namespace {

// A RemoteSlave on the accepted end of a real loopback connection (its
// messages are fed to onMessage() directly; what it sends is queued).
class RemoteSlaveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = std::make_unique<Listener>(io_, "127.0.0.1", 0, ConnectionOptions{},
                                           [this](std::shared_ptr<Connection> c) { server_ = c; });
    Connection::connect(io_, "127.0.0.1", listener_->port(), ConnectionOptions{},
                        [this](std::shared_ptr<Connection> c, const std::string&) { client_ = c; });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((!server_ || !client_) && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(server_ && client_);
    slave_ = std::make_unique<RemoteSlave>("s1", server_, clock_);
  }

  std::string send(MsgType type, Json body) {
    Message m;
    m.type = type;
    m.body = std::move(body);
    return slave_->onMessage(std::move(m));
  }
  std::string info() {
    return send(MsgType::SlaveInfo, Json{{"host", "h"}, {"os", "linux"}, {"cpus", 4},
                                         {"version", "1"}, {"basedir", "/b"}});
  }
  std::string output(std::int64_t id, std::size_t n) {
    return send(MsgType::Output, Json{{"cmd_id", id}, {"stream", 0},
                                      {"data", Json::binary(std::vector<std::uint8_t>(n, 'x'))}});
  }
  std::int64_t start() {
    CommandHandlers h;
    h.onOutput = [this](int, std::string_view d) { received_ += d.size(); };
    h.onDone = [this](const CommandOutcome& o) { outcomes_.push_back(o); };
    return slave_->startCommand("shell", Json::object(), std::move(h));
  }

  boost::asio::io_context io_;
  ManualClock clock_;
  std::unique_ptr<Listener> listener_;
  std::shared_ptr<Connection> server_, client_;
  std::unique_ptr<RemoteSlave> slave_;
  std::size_t received_ = 0;
  std::vector<CommandOutcome> outcomes_;
};

TEST_F(RemoteSlaveTest, SlaveInfoMustComeFirstOnceAndWellTyped) {
  EXPECT_EQ(send(MsgType::Heartbeat, Json::object()), "");
  EXPECT_NE(send(MsgType::Pong, Json{{"id", 1}}).find("expected SlaveInfo"), std::string::npos);
  EXPECT_FALSE(slave_->hasInfo());
  EXPECT_NE(send(MsgType::SlaveInfo, Json{{"host", "h"}}).find("'os' is missing"), std::string::npos);
  EXPECT_NE(send(MsgType::SlaveInfo, Json{{"host", "h"}, {"os", "l"}, {"cpus", "4"}, {"version", "1"},
                                          {"basedir", "/b"}})
                .find("'cpus' must be an integer"),
            std::string::npos);
  EXPECT_FALSE(slave_->hasInfo());
  EXPECT_EQ(info(), "");
  EXPECT_TRUE(slave_->hasInfo());
  EXPECT_EQ(slave_->info().value("cpus", 0), 4);
  EXPECT_NE(info().find("twice"), std::string::npos);
}

TEST_F(RemoteSlaveTest, OutputBeyondTheCreditWindowIsAProtocolError) {
  ASSERT_EQ(info(), "");
  const auto id = start();
  const std::size_t chunk = RemoteSlave::kMaxOutputChunk;
  std::size_t sent = 0;
  while (sent + chunk <= RemoteSlave::kInitialCredit) {
    ASSERT_EQ(output(id, chunk), "");
    sent += chunk;
  }
  EXPECT_EQ(received_, RemoteSlave::kInitialCredit);
  const std::string err = output(id, 1);
  EXPECT_NE(err.find("exceeds its credit window of 0 bytes"), std::string::npos) << err;
  EXPECT_EQ(received_, RemoteSlave::kInitialCredit) << "the refused chunk is not delivered";
  // Credit given back opens the window again, by exactly that much.
  slave_->credit(id, 100);
  EXPECT_EQ(output(id, 100), "");
  EXPECT_NE(output(id, 1).find("window of 0"), std::string::npos);
}

TEST_F(RemoteSlaveTest, OutputOverTheChunkLimitIsAProtocolError) {
  ASSERT_EQ(info(), "");
  const auto id = start();
  EXPECT_EQ(output(id, RemoteSlave::kMaxOutputChunk), "");
  EXPECT_NE(output(id, RemoteSlave::kMaxOutputChunk + 1).find("chunk limit"), std::string::npos);
}

TEST_F(RemoteSlaveTest, UnknownAndEndedCommandIdsAreProtocolErrors) {
  ASSERT_EQ(info(), "");
  const auto id = start();
  EXPECT_NE(output(id + 1, 1).find("never started"), std::string::npos);
  EXPECT_NE(send(MsgType::CommandDone, Json{{"cmd_id", 0}, {"rc", 0}}).find("never started"),
            std::string::npos);
  EXPECT_EQ(send(MsgType::CommandDone, Json{{"cmd_id", id}, {"rc", 3}}), "");
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_EQ(outcomes_[0].rc, 3);
  EXPECT_NE(output(id, 1).find("already ended"), std::string::npos);
  EXPECT_NE(send(MsgType::CommandDone, Json{{"cmd_id", id}, {"rc", 0}}).find("already ended"),
            std::string::npos);
  EXPECT_EQ(outcomes_.size(), 1u) << "a second CommandDone is not delivered";
}

TEST_F(RemoteSlaveTest, CommandDoneFieldsAreTypeChecked) {
  ASSERT_EQ(info(), "");
  const auto id = start();
  EXPECT_NE(send(MsgType::CommandDone, Json{{"cmd_id", id}, {"rc", 0}, {"timed_out", "no"}})
                .find("'timed_out' must be a boolean"),
            std::string::npos);
  EXPECT_NE(send(MsgType::CommandDone, Json{{"cmd_id", id}, {"rc", 0}, {"props", "x"}})
                .find("'props' must be a map"),
            std::string::npos);
  EXPECT_NE(send(MsgType::CommandDone, Json{{"cmd_id", id}}).find("'rc' is missing"), std::string::npos);
  EXPECT_TRUE(outcomes_.empty()) << "a refused CommandDone does not end the command";
}

TEST_F(RemoteSlaveTest, ABrokenProtocolEndsCommandsAsErrorsNotAsLostSlave) {
  ASSERT_EQ(info(), "");
  start();
  server_->sendErrorAndClose("protocol_error", "test");
  slave_->onDisconnected("protocol_error: test");
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_FALSE(outcomes_[0].lost) << "a protocol error is not retried like a lost slave";
  EXPECT_NE(outcomes_[0].error.find("broke the protocol"), std::string::npos);
}

TEST_F(RemoteSlaveTest, ALostConnectionEndsCommandsAsLost) {
  ASSERT_EQ(info(), "");
  start();
  server_->close("closed by peer");
  slave_->onDisconnected("closed by peer");
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_TRUE(outcomes_[0].lost);
}

}  // namespace
}  // namespace bb
