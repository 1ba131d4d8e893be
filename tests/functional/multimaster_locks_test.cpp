// Master-scoped locks shared by several masters on one PostgreSQL database
// (docs/multimaster.md, "Locks"): the masters together never pass a lock's
// limit, a waiting build says on which master the lock is held, and a
// killed master's holds are dropped by the survivor's takeover (or by its
// own next start). Steps append "start"/"end" lines with nanosecond times
// to a shared file and the test replays them for the highest concurrency
// actually observed. PostgreSQL only (pg.MultimasterLocks.*).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"
#include "tests/functional/test_database.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

// Highest number of overlapping start..end intervals in `file`.
int overlappingRuns(const std::string& file) {
  std::vector<std::pair<long long, int>> events;
  std::istringstream in(readFile(file));
  std::string kind, slave;
  long long t;
  while (in >> kind >> slave >> t) events.emplace_back(t, kind == "start" ? 1 : -1);
  std::sort(events.begin(), events.end());  // an end (-1) before a start at the same time
  int now = 0, best = 0;
  for (const auto& e : events) best = std::max(best, now += e.second);
  return best;
}

// Masters `ma` (slaves s1, s2) and `mb` (s3, s4) on one database with the
// same config; builders may use every slave.
class MultimasterLocks : public ::testing::Test {
 protected:
  std::string record(const std::string& file, const char* seconds = "0.4") {
    return "echo start %(prop:slavename)s $(date +%s%N) >> " + file + "; sleep " + seconds + "; echo end "
           "%(prop:slavename)s $(date +%s%N) >> " + file;
  }
  std::string yaml(const std::string& name, int port, int webPort) {
    const std::string all = "[s1, s2, s3, s4]";
    std::string y = "master: {name: " + name + ", slave_port: " + std::to_string(port) +
                    (webPort ? ", web_port: " + std::to_string(webPort) : std::string()) + ", dead_after: 3}\n"
                    "slaves:\n";
    for (const char* s : {"s1", "s2", "s3", "s4"}) y += std::string("  - {name: ") + s + ", password: " + q(v) + "}\n";
    return y +
           "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
           "locks:\n"
           "  - {name: pool, scope: master, max_count: 2}\n"
           "  - {name: deploy, scope: master}\n"
           "  - {name: l1, scope: master}\n"
           "  - {name: l2, scope: master}\n"
           "builders:\n"
           "  - {name: pooled, slaves: " + all + ", locks: [{lock: pool, access: counting}],\n"
           "     steps: [{shell: {command: " + q(record(tmp.sub("pool-events"))) + "}}]}\n"
           "  - {name: solo, slaves: " + all + ",\n"
           "     steps: [{shell: {command: " + q(record(tmp.sub("deploy-events"))) +
           ", locks: [{lock: deploy, access: exclusive}]}}]}\n"
           "  - {name: holder, slaves: [s1], locks: [{lock: deploy, access: exclusive}],\n"
           "     steps: [{shell: {command: " +
           // At most 60 s: a step orphaned by a killed slave ends too.
           q("echo started >> " + tmp.sub("runs") + "; n=0; while [ ! -f " + tmp.sub("gate") +
             " ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done") + "}}]}\n"
           "  - {name: waiter, slaves: [s3], locks: [{lock: deploy, access: exclusive}],\n"
           "     steps: [{shell: {command: \"echo waited\"}}]}\n"
           "  - {name: stream, slaves: [s1, s2], locks: [{lock: pool, access: counting}],\n"
           "     steps: [{shell: {command: " + q(record(tmp.sub("stream-events"), "1")) + "}}]}\n"
           "  - {name: grab, slaves: [s3], locks: [{lock: pool, access: exclusive}],\n"
           "     steps: [{shell: {command: " + q(record(tmp.sub("grab-events"))) + "}}]}\n" +
           crossed("crossx", "s1", "l1", "l2") + crossed("crossy", "s3", "l2", "l1") +
           "schedulers: [{name: force, type: force, builders: [pooled, solo, holder, waiter, stream, grab, crossx, "
           "crossy]}]\n";
  }
  // A builder holding `held` for its whole build whose second step wants
  // `wanted`: its first step records the build's start, its last the end.
  std::string crossed(const std::string& name, const std::string& slave, const std::string& held,
                      const std::string& wanted) {
    const std::string f = tmp.sub("cross-events");
    return "  - {name: " + name + ", slaves: [" + slave + "], locks: [{lock: " + held + ", access: exclusive}],\n"
           "     steps: [{shell: {command: " + q("echo start " + name + " $(date +%s%N) >> " + f + "; sleep 0.3") +
           "}},\n"
           "             {shell: {command: " + q("sleep 0.1; echo end " + name + " $(date +%s%N) >> " + f) +
           ", locks: [{lock: " + wanted + ", access: exclusive}]}}]}\n";
  }
  void startMasters(bool both) {
    a.create();
    a.writeConfig(yaml("ma", a.port(), 0));
    a.start();
    a.setAuth("alice", "pw");
    if (!both) return;
    b.shareDatabaseWith(a);
    b.create();
    b.writeConfig(yaml("mb", b.port(), web));
    b.start();
    b.setAuth("alice", "pw");
  }
  void startSlave(SlaveProcess& s, MasterProcess& m, const std::string& name) {
    s.create();
    s.start();
    ASSERT_TRUE(m.waitForLog("slave " + name + " connected")) << m.log();
  }
  void force(MasterProcess& m, const std::string& builder, int n) {
    auto r = m.client({"force", "--scheduler", "force", "--builder", builder, "--revision", "r" + std::to_string(n)});
    ASSERT_EQ(r.rc, 0) << r.describe();
  }
  std::vector<std::vector<std::string>> rows(const std::string& sql) { return sqlite(a.dbPath(), sql); }
  std::string one(const std::string& sql) { return rows(sql).at(0).at(0); }
  int count(const std::string& sql) { return std::stoi(one("SELECT count(*) FROM " + sql)); }
  std::string masterId(const std::string& name) { return one("SELECT id FROM masters WHERE name = '" + name + "'"); }

  TempDir tmp;
  std::string v = makeVerifier("pw");
  int web = freePort();
  MasterProcess a{tmp.sub("a")};
  MasterProcess b{tmp.sub("b")};
  SlaveProcess s1{tmp.sub("s1"), a.port(), "s1", "pw"};
  SlaveProcess s2{tmp.sub("s2"), a.port(), "s2", "pw"};
  SlaveProcess s3{tmp.sub("s3"), b.port(), "s3", "pw"};
  SlaveProcess s4{tmp.sub("s4"), b.port(), "s4", "pw"};
};

// 12 builds under a counting lock of 2 and 6 under an exclusive step lock,
// forced on both masters, each master with two slaves: never more than the
// limit at once across the masters, every build completes, both masters
// build, and no hold is left in the database.
TEST_F(MultimasterLocks, TheLimitOfAMasterLockHoldsAcrossMasters) {
  startMasters(true);
  startSlave(s1, a, "s1");
  startSlave(s2, a, "s2");
  startSlave(s3, b, "s3");
  startSlave(s4, b, "s4");
  for (int i = 0; i < 12; ++i) force(i % 2 ? a : b, "pooled", i);
  for (int i = 0; i < 6; ++i) force(i % 2 ? b : a, "solo", 100 + i);
  ASSERT_TRUE(waitFor([&] { return count("buildrequests WHERE complete = 1") == 18; }, 150s))
      << count("buildrequests WHERE complete = 1") << a.log() << b.log();

  EXPECT_EQ(count("buildrequests WHERE result = 0"), 18);
  EXPECT_EQ(count("builds WHERE builder = 'pooled' AND result = 0"), 12);
  EXPECT_EQ(count("builds WHERE builder = 'solo' AND result = 0"), 6);
  EXPECT_EQ(overlappingRuns(tmp.sub("pool-events")), 2) << readFile(tmp.sub("pool-events"));
  EXPECT_EQ(overlappingRuns(tmp.sub("deploy-events")), 1) << readFile(tmp.sub("deploy-events"));
  EXPECT_GE(count("builds WHERE master_id = " + masterId("ma")), 1);
  EXPECT_GE(count("builds WHERE master_id = " + masterId("mb")), 1);
  EXPECT_EQ(count("master_lock_holders"), 0);
  EXPECT_EQ(one("SELECT coalesce(sum(holders), 0) FROM master_locks"), "0");
}

// Master A runs a build holding the exclusive lock `deploy`; a build on B
// waits for it and its status says the lock is held on master ma. A is
// SIGKILLed: B declares it dead (dead_after 3 s), its takeover drops A's
// hold, and B's build gets the lock and completes.
TEST_F(MultimasterLocks, AKilledMastersLocksAreReleasedByTheTakeover) {
  startMasters(true);
  startSlave(s1, a, "s1");
  startSlave(s3, b, "s3");
  ASSERT_TRUE(b.waitForLog("web: serving on")) << b.log();
  force(a, "holder", 1);
  ASSERT_TRUE(waitFor([&] { return readFile(tmp.sub("runs")) == "started\n"; }, 30s)) << a.log();
  EXPECT_EQ(count("master_lock_holders WHERE master_id = " + masterId("ma")), 1);
  force(b, "waiter", 2);

  Json lock;
  std::string last;
  ASSERT_TRUE(waitFor([&] {
    const HttpReply r = httpGet(web, "/api/v2/locks");
    last = std::to_string(r.status) + " " + r.body;
    if (r.status != 200) return false;
    const Json body = Json::parse(r.body);
    for (const auto& l : body["locks"])
      if (l["name"] == "deploy") lock = l;
    return lock.is_object() && lock["waiting"].size() == 1;
  }, 30s)) << last << b.log();
  const std::string elsewhere = lock["waiting"][0]["blocked_by"][0]["elsewhere"].get<std::string>();
  EXPECT_TRUE(contains(elsewhere, "held on master ma by build holder #1")) << lock.dump();
  ASSERT_EQ(lock["elsewhere"].size(), 1u) << lock.dump();
  EXPECT_EQ(lock["elsewhere"][0]["master"], "ma");
  EXPECT_EQ(count("builds WHERE builder = 'waiter' AND finished = 1"), 0);
  const HttpReply page = httpGet(web, "/locks");
  EXPECT_TRUE(contains(page.body, "on master ma")) << page.body;
  EXPECT_TRUE(contains(page.body, "held on master ma by build holder #1")) << page.body;

  // The master first: a master that saw its slave go would end the build
  // and release the lock itself, properly, before the takeover.
  a.kill();
  s1.kill();
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'waiter' AND finished = 1") == 1; }, 30s))
      << b.log();
  EXPECT_EQ(one("SELECT result FROM builds WHERE builder = 'waiter'"), "0");
  EXPECT_TRUE(contains(b.log(), "1 lock hold(s) dropped")) << b.log();
  EXPECT_EQ(count("master_lock_holders WHERE master_id = " + masterId("ma")), 0);
  ASSERT_TRUE(waitFor([&] { return count("master_lock_holders") == 0; }, 10s));
}

// Master A runs a stream of 20 one-second builds under the counting lock
// `pool` (2 slots) on its two slaves: its holds always overlap, so the
// lock's row never reaches 0 holders. A build on B wants `pool`
// exclusively: B marks that it waits, A takes no new counting hold
// meanwhile, A's two running builds end, and B's build runs before the
// rest of A's stream, not after all of it.
TEST_F(MultimasterLocks, AnExclusiveClaimOnOneMasterIsNotStarvedByACountingStreamOnAnother) {
  startMasters(true);
  startSlave(s1, a, "s1");
  startSlave(s2, a, "s2");
  startSlave(s3, b, "s3");
  for (int i = 0; i < 20; ++i) force(a, "stream", i);
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'stream'") >= 2; }, 30s)) << a.log();
  const long long forcedAt =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  force(b, "grab", 100);
  ASSERT_TRUE(waitFor([&] { return count("buildrequests WHERE complete = 1") == 21; }, 120s))
      << count("buildrequests WHERE complete = 1") << a.log() << b.log();
  EXPECT_EQ(count("buildrequests WHERE result = 0"), 21);
  std::istringstream grab(readFile(tmp.sub("grab-events")));
  std::string kind, slave;
  long long t = 0, grabStart = 0, grabEnd = 0;
  while (grab >> kind >> slave >> t) (kind == "start" ? grabStart : grabEnd) = t;
  ASSERT_GT(grabEnd, 0) << readFile(tmp.sub("grab-events"));
  // Each slave's stream builds run one after another: pair its starts and ends.
  std::map<std::string, long long> open;
  int notYetStarted = 0, after = 0, overlapping = 0, runs = 0;
  std::istringstream stream(readFile(tmp.sub("stream-events")));
  while (stream >> kind >> slave >> t) {
    if (kind == "start") {
      open[slave] = t;
      if (t > forcedAt) ++notYetStarted;
      if (t >= grabEnd) ++after;
      continue;
    }
    ++runs;
    if (open[slave] < grabEnd && t > grabStart) ++overlapping;
  }
  const std::string events = readFile(tmp.sub("stream-events")) + readFile(tmp.sub("grab-events"));
  EXPECT_EQ(runs, 20);
  EXPECT_EQ(overlapping, 0) << "exclusive means alone\n" << events;
  // Of the stream builds not started when the grab was forced, at most
  // the two that A started before B's claim was refused and marked went
  // first; without the mark none would wait for the grab.
  ASSERT_GE(notYetStarted, 5) << "the stream must outlast the forcing\n" << events;
  EXPECT_GE(after, notYetStarted - 2) << events << "\nmaster ma:\n" << a.log() << "\nmaster mb:\n" << b.log();
  EXPECT_TRUE(contains(a.log(), "an exclusive claim waiting on master mb goes first")) << a.log();
  EXPECT_EQ(count("master_lock_holders"), 0);
  EXPECT_EQ(count("master_lock_waiters"), 0) << "the granted claim's mark is gone";
}

// A master killed while it holds a lock, alone on its database, drops its
// own stale hold when it starts again (its startup recovery).
TEST_F(MultimasterLocks, AMasterDropsItsStaleHoldsWhenItStartsAgain) {
  startMasters(false);
  startSlave(s1, a, "s1");
  force(a, "holder", 1);
  ASSERT_TRUE(waitFor([&] { return readFile(tmp.sub("runs")) == "started\n"; }, 30s)) << a.log();
  EXPECT_EQ(count("master_lock_holders"), 1);
  a.kill();  // before its slave, which it would see go and release the lock
  s1.kill();
  EXPECT_EQ(count("master_lock_holders"), 1) << "nobody took over";
  a.start();
  ASSERT_TRUE(a.waitForLog("1 lock hold(s) dropped")) << a.log();
  EXPECT_EQ(count("master_lock_holders"), 0);
  EXPECT_EQ(one("SELECT holders FROM master_locks WHERE name = 'deploy'"), "0");
}

// The deadlock rule across masters: builds of crossx on ma hold l1 for
// their whole run and want l2 in a step; builds of crossy on mb hold l2 and
// want l1. Run together, each would wait for the other for ever (each
// master's own rule sees only its own builds). With the plans shared in
// the database, no crossx build runs while a crossy build does, and all
// ten complete.
TEST_F(MultimasterLocks, CrossedBuildAndStepLocksOnTwoMastersAllComplete) {
  startMasters(true);
  startSlave(s1, a, "s1");
  startSlave(s3, b, "s3");
  for (int i = 0; i < 5; ++i) {
    force(a, "crossx", 200 + i);
    force(b, "crossy", 300 + i);
  }
  const std::string done = "buildrequests WHERE complete = 1 AND builder IN ('crossx', 'crossy')";
  ASSERT_TRUE(waitFor([&] { return count(done) == 10; }, 120s))
      << count(done) << " done\n" << readFile(tmp.sub("cross-events")) << a.log() << b.log();
  EXPECT_EQ(count("builds WHERE builder IN ('crossx', 'crossy') AND result = 0"), 10);
  EXPECT_EQ(count("builds WHERE builder = 'crossx' AND master_id = " + masterId("ma")), 5);
  EXPECT_EQ(count("builds WHERE builder = 'crossy' AND master_id = " + masterId("mb")), 5);
  EXPECT_EQ(overlappingRuns(tmp.sub("cross-events")), 1) << readFile(tmp.sub("cross-events"));
  EXPECT_EQ(count("master_lock_plans"), 0) << "every plan dropped when its build ended";
  EXPECT_EQ(count("master_lock_holders"), 0);
}

}  // namespace
}  // namespace bb::test
