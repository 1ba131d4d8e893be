// Locks with real processes: steps append "start"/"end" lines with
// nanosecond times to a shared file, and the test replays them to find the
// highest concurrency actually observed.
#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

struct Event {
  long long t;
  int delta;
  std::string slave;
};

// Highest number of overlapping start..end intervals, overall or on one slave.
int maxConcurrency(const std::string& file, const std::string& onlySlave = "") {
  std::vector<Event> events;
  std::istringstream in(readFile(file));
  std::string kind, slave;
  long long t;
  while (in >> kind >> slave >> t) {
    if (!onlySlave.empty() && slave != onlySlave) continue;
    events.push_back({t, kind == "start" ? 1 : -1, slave});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.t != b.t ? a.t < b.t : a.delta < b.delta;  // an end before a start at the same time
  });
  int now = 0, best = 0;
  for (const auto& e : events) best = std::max(best, now += e.delta);
  return best;
}

// A step that records its start, waits until the test opens the gate (the
// file `file`.gate, at most 60 s), works 0.4 s more and records its end.
// The gate makes the steps that the locks admit overlap however long the
// test takes to submit the builds (a client under a sanitizer on a loaded
// machine can take longer per `force` than a step runs).
std::string recordingStep(const std::string& file, const std::string& locks = "") {
  return "      - {shell: {name: work, command: \"echo start %(prop:slavename)s $(date +%s%N) >> " + file +
         "; n=0; while [ ! -e " + file + ".gate ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done" +
         "; sleep 0.4; echo end %(prop:slavename)s $(date +%s%N) >> " + file + "\"" + locks + "}}\n";
}

struct LockEnv {
  TempDir tmp;
  MasterProcess master{tmp.sub("master")};
  std::vector<std::unique_ptr<SlaveProcess>> slaves;

  void up(const std::string& locks, const std::string& builderLocks, const std::string& steps, int nSlaves,
          int maxBuilds) {
    std::ostringstream y;
    y << "master: {name: locks, slave_port: " << master.port() << ", database: \"sqlite:state.sqlite\"}\n"
      << "slaves:\n";
    for (int i = 1; i <= nSlaves; ++i)
      y << "  - {name: s" << i << ", password: " << q(verifier("pw")) << ", max_builds: " << maxBuilds << "}\n";
    y << "users: [{name: alice, password: " << q(verifier("alice-pw")) << ", may: [force, status]}]\n"
      << "locks:\n" << locks
      << "builders:\n  - name: b1\n    slaves: [";
    for (int i = 1; i <= nSlaves; ++i) y << (i > 1 ? ", " : "") << "s" << i;
    y << "]\n" << builderLocks << "    steps:\n" << steps
      << "schedulers: [{name: force, type: force, builders: [b1]}]\n";
    master.create();
    master.writeConfig(y.str());
    master.setAuth("alice", "alice-pw");
    master.start();
    for (int i = 1; i <= nSlaves; ++i) {
      slaves.push_back(std::make_unique<SlaveProcess>(tmp.sub("s" + std::to_string(i)), master.port(),
                                                      "s" + std::to_string(i), "pw"));
      slaves.back()->create();
      slaves.back()->start();
    }
    for (int i = 1; i <= nSlaves; ++i)
      ASSERT_TRUE(master.waitForLog("slave s" + std::to_string(i) + " connected")) << master.log();
  }

  // Submits `builds` builds, opens the gate of `events` once all are
  // queued, and waits until all have succeeded.
  void forceAndWait(int builds, const std::string& events) {
    for (int i = 0; i < builds; ++i) ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
    writeFile(events + ".gate", "");
    ASSERT_TRUE(waitFor([&] {
      return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1 AND result=0")[0][0] ==
             std::to_string(builds);
    }, 120s)) << master.log();
  }
};

TEST(Locks, CountingMasterLockPerBuildNeverExceedsItsLimit) {
  LockEnv e;
  const std::string f = e.tmp.sub("events");
  e.up("  - {name: db, scope: master, max_count: 2}\n", "    locks: [{lock: db, access: counting}]\n",
       recordingStep(f), 3, 2);
  e.forceAndWait(8, f);
  EXPECT_EQ(maxConcurrency(f), 2) << readFile(f);  // 6 slots, the lock admits 2
}

TEST(Locks, ExclusiveMasterLockPerStep) {
  LockEnv e;
  const std::string f = e.tmp.sub("events");
  e.up("  - {name: deploy, scope: master, max_count: 1}\n", "",
       recordingStep(f, ", locks: [{lock: deploy, access: exclusive}]"), 2, 2);
  e.forceAndWait(5, f);
  EXPECT_EQ(maxConcurrency(f), 1) << readFile(f);
}

TEST(Locks, SlaveScopedLockLimitsEachSlaveSeparately) {
  LockEnv e;
  const std::string f = e.tmp.sub("events");
  e.up("  - {name: cpu, scope: slave, max_count: 1}\n", "    locks: [{lock: cpu, access: counting}]\n",
       recordingStep(f), 2, 3);
  e.forceAndWait(6, f);
  EXPECT_EQ(maxConcurrency(f, "s1"), 1) << readFile(f);
  EXPECT_EQ(maxConcurrency(f, "s2"), 1) << readFile(f);
  EXPECT_EQ(maxConcurrency(f), 2) << "both slaves build at once\n" << readFile(f);
}

TEST(Locks, BuildLockWithStepLocksOfOtherBuildsCompletes) {
  // Every build holds the counting build lock `a`, and its step takes the
  // exclusive `b` that other builds' steps want too: a design that held
  // `a` while waiting for `b` in FIFO order could deadlock; this must end.
  LockEnv e;
  const std::string f = e.tmp.sub("events");
  e.up("  - {name: a, scope: master, max_count: 3}\n  - {name: b, scope: master, max_count: 1}\n",
       "    locks: [{lock: a, access: counting}]\n",
       recordingStep(f, ", locks: [{lock: b, access: exclusive}]") +
           "      - {shell: {name: after, command: \"true\", locks: [{lock: b, access: exclusive}]}}\n",
       3, 1);
  e.forceAndWait(6, f);
  EXPECT_EQ(maxConcurrency(f), 1) << readFile(f);
  auto waited = sqlite(e.master.dbPath(), "SELECT count(*) FROM builds WHERE properties LIKE '%lock_wait_seconds%'");
  EXPECT_NE(waited[0][0], "0") << "step lock waits are recorded on the builds";
}

}  // namespace
}  // namespace bb::test
