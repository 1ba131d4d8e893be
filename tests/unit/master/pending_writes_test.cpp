// PendingWrites: a write refused for a full disk is kept and retried with
// a doubling back-off on the clock until it lands, in order; the condition
// shows in describe() and clears (once) when a write succeeds; other
// failures are not retried; flushOnce() tries once more and never waits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "master/db/db_error.hpp"
#include "master/process/pending_writes.hpp"

namespace bb {
namespace {

using namespace std::chrono_literals;

DbError diskFull() {
  return DbError("database x is out of space: database or disk is full", DbErrorKind::DiskFull,
                 "database or disk is full");
}

struct Fixture {
  ManualClock clock;
  bool full = true;  // whether the "disk" refuses writes
  int probes = 0, recoveries = 0;
  std::vector<std::string> written;
  PendingWrites writes{clock,
                       [this] {
                         ++probes;
                         if (full) throw diskFull();
                       },
                       [this] { ++recoveries; }};

  PendingWrites::Write writer(std::string name) {
    return [this, name] {
      if (full) throw diskFull();
      written.push_back(name);
    };
  }
};

TEST(PendingWrites, AWriteRefusedForAFullDiskIsRetriedWithBackOffUntilItLands) {
  Fixture f;
  EXPECT_FALSE(f.writes.write("result of a", f.writer("a")));
  EXPECT_FALSE(f.writes.write("result of b", f.writer("b")));  // waits behind a, not tried
  EXPECT_TRUE(f.writes.full());
  EXPECT_EQ(f.writes.pending(), 2u);
  EXPECT_EQ(f.writes.describe().rfind("disk full since ", 0), 0u) << f.writes.describe();
  EXPECT_NE(f.writes.describe().find("retrying 2 pending write(s)"), std::string::npos);
  EXPECT_NE(f.writes.describe().find("database or disk is full"), std::string::npos);

  // 1 s, then 2 s, then 4 s: nothing lands while the disk is full.
  f.clock.advance(1000ms);
  f.clock.advance(1999ms);
  EXPECT_TRUE(f.written.empty());
  f.full = false;
  f.clock.advance(1ms);  // the 2 s retry
  EXPECT_EQ(f.written, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(f.writes.full());
  EXPECT_EQ(f.writes.describe(), "ok");
  EXPECT_EQ(f.recoveries, 1);
  EXPECT_EQ(f.probes, 0);  // writes were pending: no probe needed
  // Room now: a new write lands at once.
  EXPECT_TRUE(f.writes.write("result of c", f.writer("c")));
  EXPECT_EQ(f.written.back(), "c");
}

TEST(PendingWrites, AFullDiskSeenElsewhereIsProbedUntilRoomReturns) {
  Fixture f;
  f.writes.noteFull("database or disk is full");
  f.writes.noteFull("database or disk is full");  // one outage, one probe chain
  EXPECT_TRUE(f.writes.full());
  f.clock.advance(1000ms);
  EXPECT_EQ(f.probes, 1);
  f.full = false;
  f.clock.advance(2000ms);
  EXPECT_EQ(f.probes, 2);
  EXPECT_FALSE(f.writes.full());
  EXPECT_EQ(f.recoveries, 1);
  f.clock.advance(60000ms);
  EXPECT_EQ(f.probes, 2);  // no probing once it is over
}

TEST(PendingWrites, OtherFailuresAreNotRetried) {
  Fixture f;
  f.full = false;
  EXPECT_THROW(f.writes.write("bad", [] { throw DbError("no such build"); }), DbError);
  EXPECT_FALSE(f.writes.full());
  EXPECT_EQ(f.writes.pending(), 0u);
}

TEST(PendingWrites, FlushOnceTriesEachWriteOnceAndStopsRetrying) {
  Fixture f;
  EXPECT_FALSE(f.writes.write("result of a", f.writer("a")));
  f.writes.flushOnce();  // still full: given up, logged
  EXPECT_EQ(f.writes.pending(), 0u);
  f.full = false;
  f.clock.advance(60000ms);
  EXPECT_TRUE(f.written.empty());
  EXPECT_EQ(f.probes, 0);
}

}  // namespace
}  // namespace bb
