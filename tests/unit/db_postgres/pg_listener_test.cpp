// Database::notify and DbListener (master/db/pg_listener.cpp) on the test
// cluster: a notification sent on one session after commit reaches a
// listener on another through the io_context, nothing before the commit
// or after a rollback, and a listener whose session is killed comes back.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "master/db/database.hpp"
#include "master/db/db_listener.hpp"
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

TEST(PgListener, SqliteHasNobodyToTell) {
  Database db(":memory:");
  EXPECT_FALSE(db.isShared());
  db.notify("bb_a", "1:2");  // a no-op, not an error
}

}  // namespace
}  // namespace bb::db
