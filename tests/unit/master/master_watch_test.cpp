// MasterWatch on a ManualClock: another master is declared dead at the
// moment its silence passes dead_after (+1 s for whole-second heartbeats),
// not at the watch's next tick, and not before.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "master/cluster/master_watch.hpp"
#include "master/db/database.hpp"

namespace bb {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kWatchStart = 1700000000;  // ManualClock's wall time at construction

TEST(MasterWatch, AnotherMasterIsDeclaredDeadWhenItsSilencePassesDeadAfterNotAtTheNextTick) {
  ManualClock clock;
  db::Database db(":memory:");
  db.upgrade();
  const db::MasterId self = db.registerMaster("survivor", kWatchStart);
  const db::MasterId other = db.registerMaster("other", kWatchStart);
  std::vector<std::string> dead;
  // dead_after 60 s, ticks every 10 s (the default interval).
  MasterWatch watch(db, clock, self, 60s, 10s,
                    [&](const std::string& name, const TakenOver&) { dead.push_back(name); }, [] {});
  watch.start();
  // The other master heartbeats at +5 s, then dies. Our own heartbeat is
  // not at issue here (no MasterIdentity): refresh it as one would.
  clock.advance(5s);
  db.masterHeartbeat(other, kWatchStart + 5);
  for (int t = 10; t <= 60; t += 5) {
    clock.advance(5s);  // ticks at 10, 20, ... 60 s
    db.masterHeartbeat(self, kWatchStart + t);
  }
  ASSERT_TRUE(dead.empty()) << "silent 55 s of 60";
  // Its silence passes dead_after at 65 s (66 s in whole seconds); the
  // next tick would be at 70 s.
  clock.advance(5s);  // 65 s
  EXPECT_TRUE(dead.empty()) << "not before dead_after + 1 s";
  clock.advance(1100ms);  // 66.1 s
  ASSERT_EQ(dead, (std::vector<std::string>{"other"}));
  EXPECT_FALSE(db.getMaster(other)->active);
  clock.advance(30s);
  EXPECT_EQ(dead.size(), 1u) << "declared once";
}

TEST(MasterWatch, AHeartbeatBeforeTheDeadlineMovesItOn) {
  ManualClock clock;
  db::Database db(":memory:");
  db.upgrade();
  const db::MasterId self = db.registerMaster("survivor", kWatchStart);
  const db::MasterId other = db.registerMaster("other", kWatchStart);
  int declared = 0;
  MasterWatch watch(db, clock, self, 6s, 2s, [&](const std::string&, const TakenOver&) { ++declared; }, [] {});
  watch.start();
  // The other master beats every 2 s for 20 s: never declared, whatever
  // deadline the watch armed from an older heartbeat.
  for (int t = 2; t <= 20; t += 2) {
    clock.advance(2s);
    db.masterHeartbeat(other, kWatchStart + t);
    db.masterHeartbeat(self, kWatchStart + t);
  }
  EXPECT_EQ(declared, 0);
  EXPECT_TRUE(db.getMaster(other)->active);
  // Then it stops: declared at 27 s (its last heartbeat, 20 s, + 6 + 1),
  // before the tick at 28 s.
  for (int t = 21; t <= 27; ++t) {
    clock.advance(1s);
    db.masterHeartbeat(self, kWatchStart + t);
  }
  EXPECT_EQ(declared, 0);
  clock.advance(100ms);
  EXPECT_EQ(declared, 1);
}

}  // namespace
}  // namespace bb
