// Database::notify and DbListener (master/db/pg_listener.cpp) on the test
// cluster: a notification sent on one session after commit reaches a
// listener on another through the io_context, nothing before the commit
// or after a rollback, and a listener whose session is killed comes back,
// without holding the loop while the server does not answer.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "master/db/database.hpp"
#include "master/db/db_listener.hpp"
#include "tests/functional/proxy.hpp"
#include "tests/unit/db_postgres/pg_test_cluster.hpp"

namespace bb::db {
namespace {

std::string listenerDatabase() { return pgtest::freshDatabase("listen"); }

// Runs the loop until `done` or 10 s.
void runUntil(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
}

TEST(PgListener, HearsWhatAnotherSessionCommitsAndOnlyThat) {
  const std::string url = listenerDatabase();
  Database db(url);
  EXPECT_TRUE(db.isShared());
  boost::asio::io_context io;
  std::vector<std::pair<std::string, std::string>> heard;
  DbListener listener(io, url, {"bb_a", "bb_b"},
                      [&](const std::string& c, const std::string& p) { heard.emplace_back(c, p); }, {});
  db.begin();
  db.notify("bb_a", "1:rolled back");
  db.rollback();
  db.begin();
  db.notify("bb_a", "1:7,8");
  // Nothing is heard before the commit: the loop runs a while first.
  for (int i = 0; i < 10; ++i) {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(heard.empty());
  db.commit();
  db.notify("bb_b", "1:9");
  db.notify("bb_c", "1:not listened to");
  runUntil(io, [&] { return heard.size() >= 2; });
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0], (std::pair<std::string, std::string>{"bb_a", "1:7,8"}));
  EXPECT_EQ(heard[1], (std::pair<std::string, std::string>{"bb_b", "1:9"}));
  EXPECT_EQ(listener.heard(), 2u);
}

TEST(PgListener, ComesBackAfterItsSessionIsKilled) {
  const std::string url = listenerDatabase();
  Database db(url);
  boost::asio::io_context io;
  std::vector<std::string> heard;
  int reconnected = 0;
  DbListener listener(io, url, {"bb_a"}, [&](const std::string&, const std::string& p) { heard.push_back(p); },
                      [&] { ++reconnected; });
  pgtest::adminAt(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE application_name = 'buildmaster-listener' AND datname = current_database()");
  runUntil(io, [&] { return reconnected == 1; });
  ASSERT_EQ(reconnected, 1);
  db.notify("bb_a", "1:after");
  runUntil(io, [&] { return !heard.empty(); });
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0], "1:after");
}

// A server that takes the connection and never answers (a relay that
// stopped moving bytes) while the listener comes back: the attempt waits
// on the loop, never in it, so the loop keeps running every task.
TEST(PgListener, ReconnectingToAServerThatDoesNotAnswerNeverHoldsTheLoop) {
  const std::string url = listenerDatabase();
  // postgresql://bb@127.0.0.1:PORT/NAME: the same database through the relay.
  const auto at = url.find("127.0.0.1:") + 10;
  const auto slash = url.find('/', at);
  test::Proxy relay(std::stoi(url.substr(at, slash - at)));
  const std::string viaRelay = url.substr(0, at) + std::to_string(relay.port()) + url.substr(slash);
  boost::asio::io_context io;
  int reconnected = 0;
  DbListener listener(io, viaRelay, {"bb_a"}, [](const std::string&, const std::string&) {},
                      [&] { ++reconnected; });
  EXPECT_EQ(listener.lostAt(), 0);
  pgtest::adminAt(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE application_name = 'buildmaster-listener' AND datname = current_database()");
  runUntil(io, [&] { return listener.lostAt() != 0; });
  ASSERT_NE(listener.lostAt(), 0);
  relay.freeze();  // the next attempt (a second later) gets no answer

  // 4 s of the loop in 20 ms slices: the attempt starts a second in and
  // is still waiting at the end. A connect that blocked would hold one
  // slice for its whole timeout (5 s).
  using Clock = std::chrono::steady_clock;
  const auto end = Clock::now() + std::chrono::seconds(4);
  Clock::duration longest{};
  int slices = 0;
  while (Clock::now() < end) {
    const auto t = Clock::now();
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
    longest = std::max(longest, Clock::now() - t);
    ++slices;
  }
  EXPECT_EQ(reconnected, 0);
  EXPECT_GT(slices, 40);
  EXPECT_LT(longest, std::chrono::seconds(1))
      << std::chrono::duration_cast<std::chrono::milliseconds>(longest).count() << " ms";
}

TEST(PgListener, SqliteHasNobodyToTell) {
  Database db(":memory:");
  EXPECT_FALSE(db.isShared());
  db.notify("bb_a", "1:2");  // a no-op, not an error
}

}  // namespace
}  // namespace bb::db
