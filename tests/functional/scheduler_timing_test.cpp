// Schedulers driven by real time, with real processes: a nightly schedule
// fires at its minute, and a tree-stable timer pending when the master is
// SIGKILLed still yields exactly one BuildSet after the restart (with a
// project change filter on the way, seen through change-status).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// A master with slave s1, user alice (password "pw") and builder b running
// `true`; `schedulers` is the YAML list of schedulers.
std::string schedulerTimingConfig(int port, const std::string& verifier, const std::string& schedulers) {
  return "master: {name: timing, slave_port: " + std::to_string(port) + "}\n"
         "slaves: [{name: s1, password: " + q(verifier) + "}]\n"
         "users: [{name: alice, password: " + q(verifier) + ", may: [sendchange, status]}]\n"
         "builders: [{name: b, slaves: [s1], steps: [{shell: {command: \"true\"}}]}]\n"
         "schedulers:\n" + schedulers;
}

std::string schedulerTimingOne(const MasterProcess& m, const std::string& sql) { return sqlite(m.dbPath(), sql)[0][0]; }

TEST(SchedulerTiming, NightlyScheduleFiresAtItsTime) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  // "* * * * *": every minute, so the next slot is the next minute boundary.
  master.writeConfig(schedulerTimingConfig(master.port(), v,
                            "  - {name: minutely, type: nightly, cron: \"* * * * *\", branch: main, "
                            "builders: [b]}\n"));
  master.setAuth("alice", "pw");
  // The wall clock and the steady clock, read together before the master
  // starts: the schedule counts from the master's start, so its first slot
  // is no earlier than the minute after this.
  const auto wallStart = std::chrono::system_clock::now();
  const auto steadyStart = std::chrono::steady_clock::now();
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "pw");
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  // The boundary is at most 60 s away; 75 s leaves room for a slow start.
  // This bounds the wait, it is not a timing assertion: the buildset's own
  // submitted time is what is checked below.
  ASSERT_TRUE(waitFor([&] { return schedulerTimingOne(master, "SELECT count(*) FROM buildsets") != "0"; }, 75s,
                      250ms))
      << master.log();
  auto bs = sqlite(master.dbPath(), "SELECT id, scheduler, submitted_at, ss_branch FROM buildsets ORDER BY id");
  ASSERT_GE(bs.size(), 1u);
  EXPECT_EQ(bs[0][1], "minutely");
  EXPECT_EQ(bs[0][3], "main");
  const long long submitted = std::stoll(bs[0][2]);
  const long long startSec =
      std::chrono::duration_cast<std::chrono::seconds>(wallStart.time_since_epoch()).count();
  // Never before its slot: the first minute boundary after the start.
  EXPECT_GE(submitted, startSec - startSec % 60 + 60) << "fired before its time";
  // At its slot, within 5 s. The master's timers run on the steady clock
  // and wake it to check the wall clock; if the host's wall clock ran ahead
  // of the steady clock meanwhile (stepped forward, or a paused machine whose
  // steady clock stood still), the fire comes that much late in wall-clock
  // terms. That gap is measured here, not assumed, and allowed for.
  const auto wallElapsed = std::chrono::system_clock::now() - wallStart;
  const auto steadyElapsed = std::chrono::steady_clock::now() - steadyStart;
  const long long clockGap = std::max<long long>(
      0, std::chrono::duration_cast<std::chrono::seconds>(wallElapsed - steadyElapsed).count());
  EXPECT_LE(submitted % 60, 5 + clockGap)
      << "fired at second " << submitted % 60 << " of its minute (the wall clock ran " << clockGap
      << " s ahead of the steady clock during the test)";
  ASSERT_TRUE(waitFor([&] {
    return schedulerTimingOne(master, "SELECT count(*) FROM builds WHERE finished=1 AND request_id IN "
                       "(SELECT id FROM buildrequests WHERE buildset_id=" + bs[0][0] + ")") == "1";
  }, 60s)) << master.log();
  EXPECT_EQ(schedulerTimingOne(master, "SELECT result FROM buildsets WHERE id=" + bs[0][0]), "0");
  EXPECT_EQ(schedulerTimingOne(master, "SELECT result FROM builds WHERE builder='b' ORDER BY id LIMIT 1"), "0");
}

TEST(SchedulerTiming, MasterKilledDuringTreeStableTimerStillBuildsOnceAfterRestart) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  // 6 s: long enough that the SIGKILL right after sendchange lands before
  // the timer (checked below, not assumed), short enough to keep the test quick.
  master.writeConfig(schedulerTimingConfig(master.port(), v,
                            "  - {name: stable, type: single_branch, branch: main, "
                            "tree_stable_timer: 6, project: \"app*\", builders: [b]}\n"
                            "  - {name: web, type: single_branch, branch: main, project: web, "
                            "builders: [b]}\n"));
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "pw");
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  auto sc = master.client({"sendchange", "--who", "dev", "--branch", "main", "--project", "app-core",
                           "--revision", "abc123", "src/a.c"});
  ASSERT_EQ(sc.rc, 0) << sc.describe();
  master.kill();
  ASSERT_EQ(schedulerTimingOne(master, "SELECT count(*) FROM changes"), "1");
  ASSERT_EQ(schedulerTimingOne(master, "SELECT count(*) FROM buildsets"), "0")
      << "the timer fired before the SIGKILL; the test did not exercise the restart";
  EXPECT_EQ(schedulerTimingOne(master, "SELECT count(*) FROM object_state WHERE object='scheduler:stable'"
                       " AND key='pending-change:1'"), "1")
      << "the held change is stored";

  master.start();
  ASSERT_TRUE(waitFor([&] {
    return schedulerTimingOne(master, "SELECT count(*) FROM builds WHERE finished=1") == "1";
  }, 60s)) << master.log();
  auto bs = sqlite(master.dbPath(),
                   "SELECT b.id, b.scheduler, c.change_id FROM buildsets b "
                   "JOIN buildset_changes c ON c.buildset_id=b.id");
  ASSERT_EQ(bs.size(), 1u);
  EXPECT_EQ(bs[0][1], "stable");
  EXPECT_EQ(bs[0][2], "1");
  EXPECT_EQ(schedulerTimingOne(master, "SELECT result FROM builds"), "0");

  // The pending state was consumed with the BuildSet: another restart does
  // not build the change a second time.
  ASSERT_EQ(master.stop(), 0) << master.log();
  master.start();
  // A duplicate would come from the restored timer, which is due at once and
  // runs on the master's one thread before it answers this request.
  auto r = master.client({"change-status", "1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_EQ(schedulerTimingOne(master, "SELECT count(*) FROM buildsets"), "1") << master.log();
  EXPECT_NE(r.out.find("built by:"), std::string::npos) << r.out;
  // The other scheduler's change filter turned it away, and says why.
  EXPECT_NE(r.out.find("project 'app-core' does not match 'web'"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bb::test
