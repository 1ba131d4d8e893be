// The master's identity: registered by name at start, heartbeat on the
// clock, a failing heartbeat logged and retried, a clean stop recorded.
// Time comes from a ManualClock: no test sleeps.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "common/event_loop.hpp"
#include "master/db/database.hpp"
#include "master/master_identity.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t kStart = 1700000000;  // ManualClock's wall time at construction

TEST(MasterIdentity, RegistersAndHeartbeatsOnTheClock) {
  ManualClock clock;
  db::Database db(":memory:");
  db.upgrade();
  MasterIdentity identity(db, clock, "alpha");
  const auto row = db.getMaster(identity.id());
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->name, "alpha");
  EXPECT_TRUE(row->active);
  EXPECT_EQ(row->lastHeartbeat, kStart);

  identity.start();
  clock.advance(MasterIdentity::kHeartbeatInterval - 1s);
  EXPECT_EQ(db.getMaster(identity.id())->lastHeartbeat, kStart) << "not due yet";
  clock.advance(1s);
  EXPECT_EQ(db.getMaster(identity.id())->lastHeartbeat, kStart + 10);
  clock.advance(MasterIdentity::kHeartbeatInterval * 3);
  EXPECT_EQ(db.getMaster(identity.id())->lastHeartbeat, kStart + 40);

  identity.stop();
  EXPECT_FALSE(db.getMaster(identity.id())->active);
  clock.advance(MasterIdentity::kHeartbeatInterval * 2);
  EXPECT_EQ(db.getMaster(identity.id())->lastHeartbeat, kStart + 40) << "no heartbeat after stop";

  // The same name after a restart is the same master.
  MasterIdentity again(db, clock, "alpha");
  EXPECT_EQ(again.id(), identity.id());
  EXPECT_TRUE(db.getMaster(again.id())->active);
}

TEST(MasterIdentity, AFailedHeartbeatIsRetriedAtTheNextInterval) {
  char tmpl[] = "/tmp/bb_identity_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string file = std::string(tmpl) + "/state.sqlite";
  auto raw = [&](const char* sql) {
    sqlite3* c = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &c), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(c, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(c);
    ASSERT_EQ(sqlite3_close(c), SQLITE_OK);
  };
  {
    ManualClock clock;
    db::Database db(file);
    db.upgrade();
    MasterIdentity identity(db, clock, "alpha");
    identity.start();
    // The row vanishes (as if a bad hand edited the database): the
    // heartbeat fails, which must neither throw out of the timer nor stop it.
    raw("DELETE FROM masters");
    EXPECT_NO_THROW(clock.advance(MasterIdentity::kHeartbeatInterval));
    EXPECT_FALSE(db.getMaster(identity.id()).has_value());
    raw(("INSERT INTO masters (id, name, active) VALUES (" + std::to_string(identity.id().value) +
         ", 'alpha', 1)").c_str());
    clock.advance(MasterIdentity::kHeartbeatInterval);
    ASSERT_TRUE(db.getMaster(identity.id()).has_value());
    EXPECT_EQ(db.getMaster(identity.id())->lastHeartbeat, kStart + 20) << "the next beat went through";
  }
  std::error_code ec;
  fs::remove_all(tmpl, ec);
}

}  // namespace
}  // namespace bb
