// Per-object state and slave records.
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class State : public ::testing::Test {
 protected:
  void SetUp() override { db.upgrade(); }
  Database db{":memory:"};
};

TEST_F(State, GetSetOverwrite) {
  EXPECT_FALSE(db.getState("git_poller:app", "last_rev").has_value());
  db.setState("git_poller:app", "last_rev", Json{{"main", "abc"}});
  EXPECT_EQ(db.getState("git_poller:app", "last_rev"), (Json{{"main", "abc"}}));
  db.setState("git_poller:app", "last_rev", Json{{"main", "def"}, {"release", "123"}});
  EXPECT_EQ(db.getState("git_poller:app", "last_rev"),
            (Json{{"main", "def"}, {"release", "123"}}));
  // Keys and objects are independent.
  db.setState("nightly", "last_rev", 5);
  db.setState("git_poller:app", "other", nullptr);
  EXPECT_EQ(db.getState("nightly", "last_rev"), Json(5));
  EXPECT_EQ(db.getState("git_poller:app", "other"), Json(nullptr));
  EXPECT_EQ(db.getState("git_poller:app", "last_rev")->at("main"), "def");
}

TEST_F(State, PrefixReadAndDelete) {
  db.setState("scheduler:a", "pending-change:10", Json{{"branch", "x"}});
  db.setState("scheduler:a", "pending-change:9", Json::object());
  db.setState("scheduler:a", "pending", Json{{"important", true}});
  db.setState("scheduler:b", "pending-change:1", Json::object());
  auto rows = db.statesWithPrefix("scheduler:a", "pending-change:");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first, "pending-change:10");  // key order; callers sort ids
  EXPECT_EQ(rows[0].second, (Json{{"branch", "x"}}));
  EXPECT_EQ(rows[1].first, "pending-change:9");
  db.deleteState("scheduler:a", "pending-change:10");
  db.deleteState("scheduler:a", "no-such-key");
  rows = db.statesWithPrefix("scheduler:a", "pending-change:");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].first, "pending-change:9");
  EXPECT_TRUE(db.getState("scheduler:a", "pending").has_value());
  EXPECT_EQ(db.statesWithPrefix("scheduler:b", "pending-change:").size(), 1u);
  EXPECT_TRUE(db.statesWithPrefix("scheduler:c", "").empty());
}

TEST_F(State, SlaveSeenAndDisconnected) {
  EXPECT_FALSE(db.getSlave("linux-1").has_value());
  db.slaveSeen("linux-1", Json{{"os", "linux"}}, 100);
  auto s = db.getSlave("linux-1");
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->connected);
  EXPECT_EQ(s->info, (Json{{"os", "linux"}}));
  EXPECT_EQ(s->lastSeen, 100);
  EXPECT_EQ(s->lastConnected, 100);

  db.slaveSeen("linux-1", nullptr, 160);  // heartbeat: info kept
  s = db.getSlave("linux-1");
  EXPECT_EQ(s->info, (Json{{"os", "linux"}}));
  EXPECT_EQ(s->lastSeen, 160);
  EXPECT_EQ(s->lastConnected, 100);

  db.slaveDisconnected("linux-1", 200);
  s = db.getSlave("linux-1");
  EXPECT_FALSE(s->connected);
  EXPECT_EQ(s->lastDisconnected, 200);

  db.slaveSeen("linux-1", Json{{"os", "linux"}, {"cpus", 8}}, 300);
  s = db.getSlave("linux-1");
  EXPECT_TRUE(s->connected);
  EXPECT_EQ(s->lastConnected, 300);
  EXPECT_EQ(s->info.at("cpus"), 8);

  db.slaveDisconnected("mac-1", 50);
  const auto all = db.slaves();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "linux-1");
  EXPECT_EQ(all[1].name, "mac-1");
  EXPECT_FALSE(all[1].connected);
}

}  // namespace
}  // namespace bb::db
