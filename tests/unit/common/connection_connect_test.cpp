// Connection::connect: an address is used as it is, a name (from
// /etc/hosts: nothing here may leave loopback) is looked up first, and a
// refused connection says where and why.
#include "common/connection.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <optional>

namespace bb {
namespace {

struct Outcome {
  std::shared_ptr<Connection> conn;
  std::string error;
};

Outcome connectTo(boost::asio::io_context& io, const std::string& host, std::uint16_t port) {
  std::optional<Outcome> out;
  Connection::connect(io, host, port, ConnectionOptions{},
                      [&](std::shared_ptr<Connection> c, const std::string& error) {
                        out = Outcome{std::move(c), error};
                      });
  io.restart();
  while (!out && io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  if (!out) return {nullptr, "no answer within 10 s"};
  return *out;
}

class ConnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = std::make_unique<Listener>(io_, "127.0.0.1", 0, ConnectionOptions{},
                                           [this](std::shared_ptr<Connection> c) { accepted_.push_back(c); });
  }
  boost::asio::io_context io_;
  std::unique_ptr<Listener> listener_;
  std::vector<std::shared_ptr<Connection>> accepted_;
};

TEST_F(ConnectTest, AnAddressConnectsWithoutALookup) {
  const Outcome o = connectTo(io_, "127.0.0.1", listener_->port());
  EXPECT_TRUE(o.conn) << o.error;
  EXPECT_EQ(o.error, "");
}

TEST_F(ConnectTest, ANameIsLookedUpAndConnects) {
  // localhost may resolve to ::1 first; the listener is on 127.0.0.1
  // only, so this also checks that every address of a name is tried.
  const Outcome o = connectTo(io_, "localhost", listener_->port());
  EXPECT_TRUE(o.conn) << o.error;
  EXPECT_EQ(o.error, "");
}

TEST_F(ConnectTest, ARefusedAddressNamesWhereAndWhy) {
  const std::uint16_t port = listener_->port();
  listener_.reset();  // nothing listens there now
  const Outcome o = connectTo(io_, "127.0.0.1", port);
  EXPECT_FALSE(o.conn);
  EXPECT_EQ(o.error, "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

}  // namespace
}  // namespace bb
