// Lock fairness with real processes: an exclusive build submitted while
// counting holders run is not starved by counting builds submitted after
// it (the real-process version of the FIFO unit test in
// tests/unit/master/lock_manager_test.cpp). Steps append "start TAG T" and
// "end TAG T" (nanoseconds) to a shared file; the test replays it.
#include <algorithm>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

struct Interval {
  long long start = -1, end = -1;
};

// TAG -> its step's start and end, from the events file.
std::map<std::string, Interval> intervals(const std::string& file) {
  std::map<std::string, Interval> out;
  std::istringstream in(readFile(file));
  std::string kind, tag;
  long long t;
  while (in >> kind >> tag >> t) (kind == "start" ? out[tag].start : out[tag].end) = t;
  return out;
}

// Highest number of intervals, among `tags`, running at one moment.
int maxOverlap(const std::map<std::string, Interval>& all, const std::vector<std::string>& tags) {
  std::vector<std::pair<long long, int>> events;
  for (const auto& t : tags) {
    auto it = all.find(t);
    if (it == all.end()) continue;
    events.push_back({it->second.start, +1});
    events.push_back({it->second.end, -1});
  }
  std::sort(events.begin(), events.end());  // an end sorts before a start at the same time
  int now = 0, best = 0;
  for (const auto& e : events) best = std::max(best, now += e.second);
  return best;
}

TEST(LockFairness, AnExclusiveBuildIsNotStarvedByLaterCountingBuilds) {
  constexpr int kMaxCount = 2;
  TempDir tmp;
  const std::string events = tmp.sub("events");
  const std::string v = makeVerifier("pw");
  MasterProcess master(tmp.sub("master"));
  master.create();
  // 3 slaves x 2 slots: the lock, not the slots, is the limit.
  std::ostringstream y;
  y << "master: {name: fair, slave_port: " << master.port() << ", database: \"sqlite:state.sqlite\"}\n"
    << "slaves:\n";
  for (int i = 1; i <= 3; ++i) y << "  - {name: s" << i << ", password: " << q(v) << ", max_builds: 2}\n";
  // Each step records its start, waits until the test opens the gate (at
  // most 60 s), works 0.5 s and records its end: the first counting builds
  // hold the lock until every build is submitted, however slow the
  // submitting (a client under a sanitizer can take longer than a step).
  const std::string gate = events + ".gate";
  const std::string step = "      - {shell: {name: work, command: \"echo start %(prop:tag)s $(date +%s%N) >> " +
                           events + "; n=0; while [ ! -e " + gate +
                           " ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done; sleep 0.5; echo end " +
                           "%(prop:tag)s $(date +%s%N) >> " + events + "\"}}\n";
  y << "users: [{name: alice, password: " << q(v) << ", may: [force, status]}]\n"
    << "locks:\n  - {name: L, scope: master, max_count: " << kMaxCount << "}\n"
    << "builders:\n"
    << "  - name: count\n    slaves: [s1, s2, s3]\n    locks: [{lock: L, access: counting}]\n    steps:\n" << step
    << "  - name: excl\n    slaves: [s1, s2, s3]\n    locks: [{lock: L, access: exclusive}]\n    steps:\n" << step
    << "schedulers: [{name: force, type: force, builders: [count, excl]}]\n";
  master.writeConfig(y.str());
  master.setAuth("alice", "pw");
  master.start();
  std::vector<std::unique_ptr<SlaveProcess>> slaves;
  for (int i = 1; i <= 3; ++i) {
    const std::string name = "s" + std::to_string(i);
    slaves.push_back(std::make_unique<SlaveProcess>(tmp.sub(name), master.port(), name, "pw"));
    slaves.back()->create();
    slaves.back()->start();
    ASSERT_TRUE(master.waitForLog("slave " + name + " connected")) << master.log();
  }
  auto force = [&](const std::string& builder, const std::string& tag) {
    auto r = master.client({"force", "--scheduler", "force", "--builder", builder, "--property", "tag:" + tag});
    ASSERT_EQ(r.rc, 0) << r.describe();
  };

  // Counting holders fill the lock; then the exclusive build; then a stream
  // of counting builds, all submitted while the first two still run.
  std::vector<std::string> before = {"c1", "c2"}, after;
  for (const auto& t : before) force("count", t);
  ASSERT_TRUE(waitFor([&] {
    auto iv = intervals(events);
    return iv.count("c1") && iv.count("c2");
  }, 30s)) << master.log();
  force("excl", "x");
  for (int i = 3; i <= 8; ++i) {
    after.push_back("c" + std::to_string(i));
    force("count", after.back());
  }
  writeFile(gate, "");
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1")[0][0] == "9";
  }, 120s)) << master.log();
  auto results = sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE result=0");
  EXPECT_EQ(results[0][0], "9");

  const auto iv = intervals(events);
  const std::string dump = readFile(events);
  ASSERT_EQ(iv.size(), 9u) << dump;
  for (const auto& [tag, i] : iv) ASSERT_TRUE(i.start > 0 && i.end >= i.start) << tag << "\n" << dump;
  const Interval x = iv.at("x");
  // Not starved: the exclusive build ran before every counting build
  // submitted after it.
  for (const auto& t : after) EXPECT_LT(x.end, iv.at(t).start) << t << " started before x ended\n" << dump;
  // Limits: the exclusive build overlapped no one; counting ones at most N.
  for (const auto& [tag, i] : iv)
    if (tag != "x") {
      EXPECT_TRUE(i.end <= x.start || i.start >= x.end) << tag << " overlaps x\n" << dump;
    }
  std::vector<std::string> counting = before;
  counting.insert(counting.end(), after.begin(), after.end());
  const int overlap = maxOverlap(iv, counting);
  EXPECT_LE(overlap, kMaxCount) << dump;
  EXPECT_EQ(overlap, kMaxCount) << "counting builds do share the lock\n" << dump;
}

}  // namespace
}  // namespace bb::test
