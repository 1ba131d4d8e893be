// Several masters on one PostgreSQL database (docs/multimaster.md), with
// real masters and slaves: the work of one master reaches the others
// through LISTEN/NOTIFY. These tests need a shared server, so they run only
// in the PostgreSQL pass (pg.Multimaster.*, tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "tests/functional/harness.hpp"
#include "tests/functional/smtp_sink.hpp"
#include "tests/functional/test_database.hpp"

namespace bb::test {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Masters `ma` and `mb` on one database with the same builders and
// schedulers; each slave connects to one master only. b1 runs on s1, b2 on
// s2.
class Multimaster : public ::testing::Test {
 protected:
  std::string yaml(const std::string& name, int port, const std::string& extraSchedulers,
                   const std::string& extraMaster = "") {
    return "master: {name: " + name + ", slave_port: " + std::to_string(port) + ", dead_after: 3" +
           extraMaster + "}\n"
           "slaves:\n"
           "  - {name: s1, password: " + q(v) + "}\n"
           "  - {name: s2, password: " + q(v) + "}\n"
           "users: [{name: alice, password: " + q(v) + ", may: [sendchange, force, status]}]\n"
           "builders:\n"
           "  - {name: b1, slaves: [s1], steps: [{shell: {command: \"echo built %(prop:revision)s\"}}]}\n"
           "  - {name: slow, slaves: [s1, s2], steps: [{shell: {command: \"echo started >> " + tmp.sub("runs") +
           "; while [ ! -f " + tmp.sub("gate") + " ]; do sleep 0.05; done; echo built\"}}]}\n"
           "  - {name: either, slaves: [s1, s2], steps: [{shell: {command: \"echo built\"}}]}\n"
           "schedulers:\n"
           "  - {name: all, type: single_branch, branch: main, builders: [b1]}\n"
           "  - {name: force, type: force, builders: [b1, slow, either]}\n" + extraSchedulers;
  }
  void startBoth(const std::string& extraSchedulers, const std::string& extraMasterB = "") {
    a.create();
    a.writeConfig(yaml("ma", a.port(), extraSchedulers));
    b.shareDatabaseWith(a);
    b.create();
    b.writeConfig(yaml("mb", b.port(), extraSchedulers, extraMasterB));
    a.start();
    b.start();
    a.setAuth("alice", "pw");
    b.setAuth("alice", "pw");
  }
  // `slow` builds at once; the dependent scheduler `after` (upstream:
  // force) runs on A, the first to start; s2 is connected to B.
  void startWithDependentOnAAndSlaveOnB() {
    writeFile(tmp.sub("gate"), "");
    startBoth("  - {name: after, type: dependent, upstream: force, builders: [b1]}\n");
    ASSERT_TRUE(b.waitForLog("scheduler after: another master runs it; standing by")) << b.log();
    s2.create();
    s2.start();
    ASSERT_TRUE(b.waitForLog("slave s2 connected")) << b.log();
  }
  // Both masters, with s1 connected to A and B listening.
  void startBothWithS1OnA() {
    startBoth("");
    s1.create();
    s1.start();
    ASSERT_TRUE(a.waitForLog("slave s1 connected")) << a.log();
    ASSERT_TRUE(b.waitForLog("cluster: listening for other masters")) << b.log();
  }
  // Forces a build of `builder` on A and waits until `finished` builds of
  // it have finished.
  void forceOnAAndWait(const std::string& builder, int finished) {
    auto r = a.client({"force", "--scheduler", "force", "--builder", builder, "--revision",
                       "r" + std::to_string(finished)});
    ASSERT_EQ(r.rc, 0) << r.describe();
    ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = '" + builder + "' AND finished = 1") == finished; },
                        30s))
        << a.log() << b.log();
  }
  // `buildbot watch --json` on master `m`, its output in `out`.
  void watch(MasterProcess& m, ChildProcess& p, const std::string& out) {
    p.start({BB_BIN_CLIENT, "--master-fingerprint", m.fingerprint(), "--master",
             "127.0.0.1:" + std::to_string(m.port()), "watch", "--json"},
            out, "", {{"BUILDBOT_AUTH", "alice:pw"}});
  }
  // From a stopped master's "cluster: N notification(s) sent to other
  // masters, M heard from them": N and M (-1 each if the line is missing).
  std::pair<int, int> notificationsAtStop(MasterProcess& m) {
    const std::string log = m.log();
    const auto heard = log.find(" heard from them");
    const auto line = log.rfind("] cluster: ", heard);
    if (heard == std::string::npos || line == std::string::npos) {
      ADD_FAILURE() << "no count of notifications at the stop:\n" << log;
      return {-1, -1};
    }
    return {std::stoi(log.substr(line + 11)), std::stoi(log.substr(log.rfind(", ", heard) + 2))};
  }
  // The database refuses to set the masters' flag `column` (a wish) until
  // allowWishes(): "disk on fire".
  void refuseWish(const std::string& column) {
    sqlite(a.dbPath(), "CREATE FUNCTION no_wish() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW." + column +
                           " <> 0 THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$;"
                           "CREATE TRIGGER no_wish BEFORE UPDATE OF " + column +
                           " ON masters FOR EACH ROW EXECUTE FUNCTION no_wish();");
  }
  void allowWishes() { sqlite(a.dbPath(), "DROP TRIGGER no_wish ON masters;"); }
  std::vector<std::vector<std::string>> rows(const std::string& sql) { return sqlite(a.dbPath(), sql); }
  std::string one(const std::string& sql) { return rows(sql).at(0).at(0); }
  int count(const std::string& sql) { return std::stoi(one("SELECT count(*) FROM " + sql)); }
  std::string masterId(const std::string& name) {
    return one("SELECT id FROM masters WHERE name = '" + name + "'");
  }

  TempDir tmp;
  std::string v = makeVerifier("pw");
  MasterProcess a{tmp.sub("a")};
  MasterProcess b{tmp.sub("b")};
  SlaveProcess s1{tmp.sub("s1"), a.port(), "s1", "pw"};
  SlaveProcess s2{tmp.sub("s2"), b.port(), "s2", "pw"};
};

// A request made on master B for a builder whose only slave is on master
// A is built once, by A. Nothing polls: A's distributor runs on events
// only, so without B's notification it would never see the request.
TEST_F(Multimaster, WorkAcceptedOnOneMasterIsBuiltOnceByTheMasterWithTheSlave) {
  startBoth("");
  s1.create();
  s1.start();
  ASSERT_TRUE(a.waitForLog("slave s1 connected")) << a.log();
  EXPECT_TRUE(a.waitForLog("cluster: listening for other masters")) << a.log();
  EXPECT_TRUE(b.waitForLog("cluster: listening for other masters")) << b.log();

  const auto forced = Clock::now();
  auto r = b.client({"force", "--scheduler", "force", "--builder", "b1", "--revision", "r1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'b1' AND finished = 1") == 1; }, 30s))
      << a.log() << b.log();
  std::cout << "force on mb -> build of b1 finished on ma: " << secondsSince(forced) << " s\n";

  const auto changed = Clock::now();
  r = b.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "r2"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'b1' AND finished = 1") == 2; }, 30s))
      << a.log() << b.log();
  std::cout << "sendchange on mb -> build of b1 finished on ma: " << secondsSince(changed) << " s\n";

  // Each request built exactly once, both by A, both succeeded.
  EXPECT_EQ(count("buildrequests"), 2);
  EXPECT_EQ(count("buildrequests WHERE complete = 1 AND result = 0"), 2);
  EXPECT_EQ(count("builds"), 2);
  EXPECT_EQ(count("builds WHERE master_id = " + masterId("ma")), 2);
  EXPECT_EQ(count("buildrequests WHERE claimed_by = " + masterId("mb")), 0);
  EXPECT_TRUE(contains(b.log(), "change 1 accepted")) << b.log();
}

// A request made on master A, whose slave for it is free, is built by A,
// and master B (with a free slave for it too) is not woken to race for it:
// A announces its round's requests after its own pass, without the ones it
// took. Before, B heard every request, read the queue, and tried to claim
// each one A was starting (docs/multimaster.md, "Waking the others").
TEST_F(Multimaster, ARequestTheMasterStartsItselfDoesNotWakeTheOthers) {
  ASSERT_NO_FATAL_FAILURE(startBothWithS1OnA());
  s2.create();
  s2.start();
  ASSERT_TRUE(b.waitForLog("slave s2 connected")) << b.log();
  constexpr int kBuilds = 8;
  for (int i = 1; i <= kBuilds; ++i) ASSERT_NO_FATAL_FAILURE(forceOnAAndWait("either", i));
  EXPECT_EQ(count("builds WHERE builder = 'either' AND master_id = " + masterId("ma")), kBuilds);
  b.stop();
  // "distributor: P pass(es) read the queue (G page(s)), C request(s) claimed, L lost to another master"
  const std::string log = b.log();
  const auto at = log.find("] distributor: ");
  ASSERT_NE(at, std::string::npos) << log;
  const int passes = std::stoi(log.substr(at + 15));
  const auto lost = log.find("claimed, ", at);
  ASSERT_NE(lost, std::string::npos) << log;
  EXPECT_EQ(std::stoi(log.substr(lost + 9)), 0) << log;
  // B read the queue when s2 attached, not once per request of A's.
  EXPECT_LT(passes, kBuilds / 2) << log;
}

// `buildbot force --wait` on master B follows a build that runs on master
// A to its end. B wants completed BuildSets only from the moment the
// client subscribes. The second time B's wish is refused by the database
// until A's build has finished, so A announced the completion to nobody:
// B reads it from the database once the wish is stored, and the client
// ends then.
TEST_F(Multimaster, ForceWaitOnOneMasterFollowsABuildThatRunsOnAnother) {
  ASSERT_NO_FATAL_FAILURE(startBothWithS1OnA());
  auto r = b.client({"force", "--wait", "--scheduler", "force", "--builder", "b1", "--revision", "w1"});
  ASSERT_EQ(r.rc, 0) << r.describe() << a.log() << b.log();
  EXPECT_TRUE(contains(r.out, "complete: success")) << r.describe();
  // Lowered at B's next refresh (every second here) once the client left.
  ASSERT_TRUE(waitFor([&] { return count("masters WHERE name = 'mb' AND wants_buildsets <> 0") == 0; }, 10s))
      << b.log();

  refuseWish("wants_buildsets");
  ChildProcess waiting;
  waiting.start({BB_BIN_CLIENT, "--master-fingerprint", b.fingerprint(), "--master",
                 "127.0.0.1:" + std::to_string(b.port()), "force", "--wait", "--scheduler", "force", "--builder",
                 "b1", "--revision", "w2"},
                tmp.sub("force-wait"), "", {{"BUILDBOT_AUTH", "alice:pw"}});
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'b1' AND finished = 1") == 2; }, 30s))
      << a.log() << b.log();
  ASSERT_TRUE(b.waitForLog("disk on fire")) << b.log();
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(waiting.running()) << readFile(tmp.sub("force-wait"));
  allowWishes();
  ASSERT_TRUE(waitFor([&] { return !waiting.running(); }, 15s)) << readFile(tmp.sub("force-wait")) << b.log();
  EXPECT_EQ(waiting.exitStatus(), 0) << readFile(tmp.sub("force-wait"));
  EXPECT_TRUE(contains(readFile(tmp.sub("force-wait")), "complete: success")) << readFile(tmp.sub("force-wait"));
  EXPECT_TRUE(contains(b.log(), "completed elsewhere before this master's wish to hear of them was stored"))
      << b.log();
}

// A BuildSet that completes on master B reaches a dependent scheduler that
// runs on master A (bb_buildset_done): A's dependent makes its BuildSet,
// and A's slave builds it. Without the relay A would never hear of it.
TEST_F(Multimaster, ABuildsetCompletedOnOneMasterTriggersADependentOnAnother) {
  ASSERT_NO_FATAL_FAILURE(startWithDependentOnAAndSlaveOnB());
  auto r = b.client({"force", "--scheduler", "force", "--builder", "slow", "--revision", "r1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return count("buildsets WHERE scheduler = 'after'") == 1; }, 30s))
      << a.log() << b.log();
  EXPECT_EQ(one("SELECT master_id FROM builds WHERE builder = 'slow'"), masterId("mb"));
  EXPECT_TRUE(contains(a.log(), "scheduler after created buildset")) << a.log();
  s1.create();
  s1.start();
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'b1' AND finished = 1") == 1; }, 30s))
      << a.log();
  EXPECT_EQ(one("SELECT master_id FROM builds WHERE builder = 'b1'"), masterId("ma"));
  EXPECT_EQ(count("buildsets WHERE scheduler = 'after'"), 1);
}

// `buildbot watch` on master B and B's event stream see a build that runs
// on master A, as it happens (bb_status): the BuildSet, its request, the
// build, its step and each range of the step's output, each marked
// other_master and with the keys and data A's own watchers get. A client
// that asks for local_only does not.
TEST_F(Multimaster, WatchersAndTheEventStreamOfOneMasterSeeTheBuildsOfAnother) {
  const int webB = freePort();
  startBoth("", ", web_port: " + std::to_string(webB));
  ASSERT_TRUE(b.waitForLog("web: serving on")) << b.log();
  s1.create();
  s1.start();
  ASSERT_TRUE(a.waitForLog("slave s1 connected")) << a.log();

  ChildProcess onA, onB, sse, sseLocal;
  watch(a, onA, tmp.sub("watch-a"));
  watch(b, onB, tmp.sub("watch-b"));
  const std::string events = "http://127.0.0.1:" + std::to_string(webB) + "/api/v2/events?topics=build,step";
  sse.start({"curl", "-sN", "--max-time", "60", events}, tmp.sub("sse"));
  sseLocal.start({"curl", "-sN", "--max-time", "60", events + "&local_only=true"}, tmp.sub("sse-local"));
  ASSERT_TRUE(a.waitForLog("subscribed to events (everything)")) << a.log();
  ASSERT_TRUE(b.waitForLog("subscribed to events (everything)")) << b.log();
  ASSERT_TRUE(waitFor([&] {
    return contains(readFile(tmp.sub("sse")), "retry:") && contains(readFile(tmp.sub("sse-local")), "retry:");
  }, 10s)) << readFile(tmp.sub("sse")) << b.log();
  // B has watchers of other masters' builds now: A hears that and sends
  // its status (bb_wants).
  ASSERT_TRUE(a.waitForLog("cluster: sending this master's status to other masters")) << a.log();

  auto r = a.client({"force", "--scheduler", "force", "--builder", "b1", "--revision", "r1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return contains(readFile(tmp.sub("watch-b")), "\"build.finished\""); }, 30s))
      << readFile(tmp.sub("watch-b")) << b.log();
  ASSERT_TRUE(waitFor([&] { return contains(readFile(tmp.sub("watch-a")), "\"build.finished\""); }, 30s));
  ASSERT_TRUE(waitFor([&] { return contains(readFile(tmp.sub("sse")), "event: build.finished"); }, 30s))
      << readFile(tmp.sub("sse"));
  EXPECT_EQ(one("SELECT master_id FROM builds WHERE builder = 'b1'"), masterId("ma"));

  // type -> the event, from each watcher's JSON lines.
  const auto parse = [](const std::string& text) {
    std::map<std::string, Json> byType;
    std::vector<std::string> order;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const auto nl = text.find('\n', pos);
      const std::string line = text.substr(pos, nl - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      if (line.empty()) continue;
      const Json ev = Json::parse(line);
      byType.emplace(ev["type"].get<std::string>(), ev);
      order.push_back(ev["type"].get<std::string>());
    }
    return std::make_pair(byType, order);
  };
  const auto [local, localOrder] = parse(readFile(tmp.sub("watch-a")));
  const auto [relayed, relayedOrder] = parse(readFile(tmp.sub("watch-b")));
  const auto at = [&](const std::string& t) {
    return std::find(relayedOrder.begin(), relayedOrder.end(), t) - relayedOrder.begin();
  };
  for (const char* t : {"buildset.created", "request.created", "build.started", "step.started", "log.lines",
                        "step.finished", "build.finished"}) {
    ASSERT_TRUE(local.count(t)) << "no " << t << " on ma:\n" << readFile(tmp.sub("watch-a"));
    ASSERT_TRUE(relayed.count(t)) << "no " << t << " on mb:\n" << readFile(tmp.sub("watch-b"));
    const Json& l = local.at(t);
    const Json& o = relayed.at(t);
    EXPECT_FALSE(l.value("other_master", false)) << l.dump();
    EXPECT_TRUE(o.value("other_master", false)) << o.dump();
    for (const char* key : {"builder", "slave", "buildset_id", "request_id", "build_id", "change_ids"})
      EXPECT_EQ(l.value(key, Json()), o.value(key, Json())) << t << " " << key << "\n" << l.dump() << "\n" << o.dump();
    EXPECT_EQ(l["data"], o["data"]) << t << "\n" << l.dump() << "\n" << o.dump();
  }
  EXPECT_LT(at("buildset.created"), at("build.started"));
  EXPECT_LT(at("build.started"), at("step.started"));
  EXPECT_LT(at("step.started"), at("log.lines"));
  EXPECT_LT(at("log.lines"), at("step.finished"));
  // Every range of the step's output, in order, as on ma.
  const auto linesOf = [](const std::string& text) {
    std::vector<Json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) {
        const Json ev = Json::parse(line);
        if (ev["type"] == "log.lines") out.push_back(ev["data"]);
      }
    return out;
  };
  const auto localLines = linesOf(readFile(tmp.sub("watch-a")));
  EXPECT_FALSE(localLines.empty());
  EXPECT_EQ(localLines, linesOf(readFile(tmp.sub("watch-b"))));
  EXPECT_LT(at("step.finished"), at("build.finished"));
  EXPECT_EQ(relayed.at("build.finished")["data"].value("result", ""), "success");
  EXPECT_EQ(std::to_string(relayed.at("build.started").value("build_id", 0)), one("SELECT id FROM builds"));
  // Only what happened on A is relayed to B (the claim is A's own): B
  // shows nothing twice.
  EXPECT_EQ(std::count(relayedOrder.begin(), relayedOrder.end(), "build.finished"), 1);
  EXPECT_EQ(relayed.count("request.claimed"), 0u);

  sse.kill();
  sseLocal.kill();
  const std::string all = readFile(tmp.sub("sse"));
  EXPECT_TRUE(contains(all, "event: step.started")) << all;
  EXPECT_TRUE(contains(all, "\"other_master\":true")) << all;
  EXPECT_FALSE(contains(readFile(tmp.sub("sse-local")), "event: build")) << readFile(tmp.sub("sse-local"));
  ::kill(onA.pid(), SIGINT);
  ::kill(onB.pid(), SIGINT);
}

// Status crosses masters only while someone wants it: with no watcher,
// event stream or reporter on B, A announces its builds' status to nobody
// (only what B's own work needs: a finished BuildSet). A watcher on B
// makes A send it at once, and after the watcher leaves A stops again at
// its next refresh (a heartbeat interval: 1 s with dead_after 3).
TEST_F(Multimaster, StatusIsAnnouncedToOtherMastersOnlyWhileOneOfThemHasAWatcher) {
  ASSERT_NO_FATAL_FAILURE(startBothWithS1OnA());
  constexpr int kBuilds = 6;
  for (int i = 1; i <= kBuilds; ++i) ASSERT_NO_FATAL_FAILURE(forceOnAAndWait("b1", i));
  EXPECT_FALSE(contains(a.log(), "sending this master's status")) << a.log();

  ChildProcess watcher;
  watch(b, watcher, tmp.sub("watch-b"));
  ASSERT_TRUE(b.waitForLog("subscribed to events (everything)")) << b.log();
  ASSERT_TRUE(a.waitForLog("cluster: sending this master's status to other masters")) << a.log();
  ASSERT_NO_FATAL_FAILURE(forceOnAAndWait("b1", kBuilds + 1));
  ASSERT_TRUE(waitFor([&] { return contains(readFile(tmp.sub("watch-b")), "\"build.finished\""); }, 30s))
      << readFile(tmp.sub("watch-b")) << b.log();
  ::kill(watcher.pid(), SIGINT);
  watcher.stop(10s);
  ASSERT_TRUE(a.waitForLog("cluster: no longer sending this master's status to other masters", 10s)) << a.log();

  // "cluster: N notification(s) sent to other masters, M heard from them":
  // for the first builds A sent one each (the BuildSet's completion), not
  // the five of its status, and for the watched one about six more.
  a.stop();
  const int sent = notificationsAtStop(a).first;
  const std::string log = a.log();
  std::cout << "master A sent " << sent << " notification(s) for " << kBuilds + 1 << " builds, one watched\n";
  EXPECT_LT(sent, 2 * kBuilds + 10) << log;
}

// A master whose wishes cannot be stored (the database refuses the write)
// logs it and tries again at its next refresh; meanwhile the others go by
// the wishes as stored: they send it neither their status nor their
// completed BuildSets. Once the write goes through, the other master sends
// its status, and the master reads the BuildSets completed while it was
// refused from the database: its watcher sees the completion of a build
// that finished meanwhile.
TEST_F(Multimaster, AWishTheDatabaseRefusesIsStoredAtTheNextRefreshAndWhatItMissedIsRead) {
  ASSERT_NO_FATAL_FAILURE(startBothWithS1OnA());
  refuseWish("wants_status");
  ChildProcess watcher;
  watch(b, watcher, tmp.sub("watch-b"));
  ASSERT_TRUE(b.waitForLog("cluster: cannot store what this master wants of the other masters (status: yes"))
      << b.log();
  ASSERT_TRUE(b.waitForLog("disk on fire")) << b.log();
  // Tried again at each refresh (every second here), still refused.
  const auto refusals = [&] {
    const std::string log = b.log();
    int n = 0;
    for (auto at = log.find("disk on fire"); at != std::string::npos; at = log.find("disk on fire", at + 1)) ++n;
    return n;
  };
  ASSERT_TRUE(waitFor([&] { return refusals() >= 2; }, 10s)) << b.log();
  EXPECT_EQ(count("masters WHERE wants_status <> 0 OR wants_buildsets <> 0"), 0);
  // A build on A now: neither its status nor its BuildSet's completion is
  // announced to B.
  ASSERT_NO_FATAL_FAILURE(forceOnAAndWait("b1", 1));
  const std::string missed = one("SELECT buildset_id FROM buildrequests r JOIN builds b ON b.request_id = r.id");
  EXPECT_FALSE(contains(a.log(), "sending this master's status")) << a.log();
  EXPECT_TRUE(b.running());
  allowWishes();
  ASSERT_TRUE(a.waitForLog("cluster: sending this master's status to other masters", 10s)) << a.log() << b.log();
  ASSERT_TRUE(b.waitForLog("buildset(s) completed elsewhere before this master's wish to hear of them was stored", 10s)) << b.log();
  ASSERT_TRUE(waitFor([&] {
    const std::string out = readFile(tmp.sub("watch-b"));
    return contains(out, "\"buildset.completed\"") && contains(out, "\"buildset_id\":" + missed);
  }, 10s)) << readFile(tmp.sub("watch-b")) << b.log();
  ASSERT_NO_FATAL_FAILURE(forceOnAAndWait("b1", 2));
  ASSERT_TRUE(waitFor([&] { return contains(readFile(tmp.sub("watch-b")), "\"build.finished\""); }, 30s))
      << readFile(tmp.sub("watch-b")) << b.log();
  ::kill(watcher.pid(), SIGINT);
  watcher.stop(10s);
}

// Changes and completed BuildSets go only to the masters that want them:
// with no scheduler on B that takes the others' changes (`all` runs on
// every master) and nothing there waiting for BuildSets, B hears nothing
// of A's builds. A dependent scheduler started on B by a reconfig makes it
// want completed BuildSets at once, and the next BuildSet A completes
// reaches it.
TEST_F(Multimaster, ChangesAndFinishedBuildsetsReachOnlyTheMastersThatWantThem) {
  ASSERT_NO_FATAL_FAILURE(startBothWithS1OnA());
  constexpr int kBuilds = 6;
  for (int i = 1; i <= kBuilds; ++i) {
    auto r = a.client({"sendchange", "--branch", "main", "--revision", "c" + std::to_string(i), "--who", "x"});
    ASSERT_EQ(r.rc, 0) << r.describe();
    ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'b1' AND finished = 1") == i; }, 30s))
        << a.log();
  }
  EXPECT_EQ(count("masters WHERE wants_changes <> 0 OR wants_buildsets <> 0"), 0);
  // Only B runs `after` (A's config lacks it): B wants A's BuildSets now.
  b.writeConfig(yaml("mb", b.port(), "  - {name: after, type: dependent, upstream: all, builders: [either]}\n"));
  auto r = b.reconfig();
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return count("masters WHERE name = 'mb' AND wants_buildsets <> 0") == 1; }, 10s))
      << b.log();
  r = a.client({"sendchange", "--branch", "main", "--revision", "c99", "--who", "x"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return count("buildsets WHERE scheduler = 'after'") == 1; }, 30s))
      << a.log() << b.log();
  b.stop();
  // A's wishes at its start and the one completed BuildSet, at most; two
  // per build (each change and each completion) before.
  EXPECT_LE(notificationsAtStop(b).second, 3) << b.log();
}

// Reporters on any master report every master's builds, each once: a
// mail reporter configured on master A only mails the build that ran on
// B, and one configured on both mails each build once (report_claims).
TEST_F(Multimaster, AReporterOnOneMasterReportsTheOthersBuildsAndOneOnBothReportsEachOnce) {
  writeFile(tmp.sub("gate"), "");  // `slow` builds at once here
  SmtpSink smtp{freePort(), tmp.sub("mail")};
  smtp.start();
  const auto reporter = [&](const std::string& name, const std::string& to) {
    return "  - {name: " + name + ", type: mail, smtp: \"smtp://127.0.0.1:" + std::to_string(smtp.port()) +
           "\", from: \"CI <ci@example.org>\", mode: all, to: [" + to + "]}\n";
  };
  a.create();
  a.writeConfig(yaml("ma", a.port(), "") + "reporters:\n" + reporter("m-both", "both@example.org") +
                reporter("m-a-only", "a-only@example.org"));
  b.shareDatabaseWith(a);
  b.create();
  b.writeConfig(yaml("mb", b.port(), "") + "reporters:\n" + reporter("m-both", "both@example.org"));
  a.start();
  b.start();
  a.setAuth("alice", "pw");
  s2.create();
  s2.start();
  ASSERT_TRUE(b.waitForLog("slave s2 connected")) << b.log();
  // `slow` can run on s1 or s2; only s2 (on B) is connected yet.
  ASSERT_EQ(a.client({"force", "--scheduler", "force", "--builder", "slow"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE finished = 1") == 1; }, 30s)) << a.log() << b.log();
  s1.create();
  s1.start();
  ASSERT_TRUE(a.waitForLog("slave s1 connected")) << a.log();
  ASSERT_EQ(a.client({"force", "--scheduler", "force", "--builder", "b1"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE finished = 1") == 2; }, 30s)) << a.log() << b.log();
  EXPECT_EQ(one("SELECT master_id FROM builds WHERE builder = 'slow'"), masterId("mb"));
  EXPECT_EQ(one("SELECT master_id FROM builds WHERE builder = 'b1'"), masterId("ma"));

  ASSERT_TRUE(waitFor([&] { return smtp.messages().size() >= 4; }, 30s))
      << smtp.messages().size() << " mails\n" << a.log() << b.log();
  std::this_thread::sleep_for(2s);  // for any mail beyond them
  std::map<std::string, std::vector<std::string>> got;  // recipient -> subjects
  for (const auto& m : smtp.messages())
    for (const auto& r : m["rcpt_tos"]) got[r.get<std::string>()].push_back(m["subject"].get<std::string>());
  ASSERT_EQ(got["a-only@example.org"].size(), 2u) << a.log();
  ASSERT_EQ(got["both@example.org"].size(), 2u) << a.log() << b.log();
  for (const auto& to : {"a-only@example.org", "both@example.org"}) {
    std::string subjects;
    for (const auto& sub : got[to]) subjects += sub + "\n";
    EXPECT_TRUE(contains(subjects, "slow #1: success")) << to << ":\n" << subjects;
    EXPECT_TRUE(contains(subjects, "b1 #1: success")) << to << ":\n" << subjects;
  }
  // One claim per (reporter, build), made by the master that sent it.
  EXPECT_EQ(count("report_claims WHERE reporter = 'mail:m-both'"), 2);
  EXPECT_EQ(count("report_claims WHERE reporter = 'mail:m-a-only' AND master_id = " + masterId("ma")), 2);
}

// A BuildSet that completes on master B while master A's listening session
// is down (A hears no bb_buildset_done) still reaches the dependent
// scheduler A runs: once A listens again it publishes what completed
// elsewhere since shortly before the loss. The database refuses new
// connections meanwhile, so A cannot reconnect before B's BuildSet is done.
TEST_F(Multimaster, ABuildsetCompletedWhileTheDependentsMasterWasNotListeningIsCaughtUp) {
  ASSERT_NO_FATAL_FAILURE(startWithDependentOnAAndSlaveOnB());

  const std::string url = a.dbPath();
  const std::string dbName = url.substr(url.rfind('/') + 1);
  const std::string maintenance = url.substr(0, url.rfind('/') + 1) + "postgres";
  postgresRows(maintenance, "ALTER DATABASE " + dbName + " ALLOW_CONNECTIONS false");
  // Only A's listening session goes (A started first, so its listener is
  // the older); B keeps its own, and both keep their statements' sessions.
  const auto listeners = postgresRows(maintenance, "SELECT pid FROM pg_stat_activity WHERE datname = '" + dbName +
                                                       "' AND application_name = 'buildmaster-listener'"
                                                       " ORDER BY backend_start");
  ASSERT_EQ(listeners.size(), 2u);
  postgresRows(maintenance, "SELECT pg_terminate_backend(" + listeners[0][0] + ")");
  ASSERT_TRUE(a.waitForLog("the listening session was lost")) << a.log();

  auto r = b.client({"force", "--scheduler", "force", "--builder", "slow", "--revision", "r1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(b.waitForLog("buildset 1 complete: success")) << b.log();
  std::this_thread::sleep_for(2s);  // A heard nothing, so its dependent did nothing
  EXPECT_FALSE(contains(a.log(), "scheduler after created buildset")) << a.log();
  EXPECT_FALSE(contains(b.log(), "the listening session was lost")) << b.log();

  postgresRows(maintenance, "ALTER DATABASE " + dbName + " ALLOW_CONNECTIONS true");
  ASSERT_TRUE(a.waitForLog("listening again")) << a.log();
  ASSERT_TRUE(a.waitForLog("1 buildset(s) completed elsewhere while this master was not listening")) << a.log();
  ASSERT_TRUE(a.waitForLog("scheduler after created buildset")) << a.log();
  EXPECT_EQ(count("buildsets WHERE scheduler = 'after'"), 1);
  s1.create();
  s1.start();
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'b1' AND finished = 1") == 1; }, 30s)) << a.log();
}

// A scheduler with a timer runs on one master: the first to claim it in
// the database. The other stands by, and takes it over from the stored
// state when its owner stops cleanly; a periodic slot is never built twice.
TEST_F(Multimaster, APeriodicSchedulerRunsOnOneMasterAndMovesAtACleanStop) {
  startBoth("  - {name: every, type: periodic, interval: 2, builders: [b1]}\n");
  ASSERT_TRUE(b.waitForLog("scheduler every: another master runs it; standing by")) << b.log();
  EXPECT_EQ(one("SELECT master_id FROM scheduler_owners WHERE name = 'every'"), masterId("ma"));
  auto buildsets = [&] { return count("buildsets WHERE scheduler = 'every'"); };
  ASSERT_TRUE(waitFor([&] { return buildsets() >= 3; }, 20s)) << a.log();
  EXPECT_FALSE(contains(b.log(), "scheduler every created buildset")) << b.log();

  ASSERT_EQ(a.stop(), 0) << a.log();
  const int before = buildsets();
  ASSERT_TRUE(b.waitForLog("scheduler every: taken over by this master", 10s)) << b.log();
  ASSERT_TRUE(waitFor([&] { return buildsets() >= before + 2; }, 20s)) << b.log();
  EXPECT_TRUE(contains(b.log(), "scheduler every created buildset")) << b.log();
  EXPECT_EQ(one("SELECT master_id FROM scheduler_owners WHERE name = 'every'"), masterId("mb"));
  // One BuildSet per planned slot: never two in the same second, as two
  // masters firing the same stored slot would make.
  EXPECT_EQ(one("SELECT count(DISTINCT submitted_at) FROM buildsets WHERE scheduler = 'every'"),
            std::to_string(buildsets()));
}

// A master SIGKILLed in the middle of a build: once its heartbeat is older
// than dead_after (3 s here) the survivor declares it dead, ends its build
// RETRY and puts the request back, and the survivor's slave builds it. The
// request is built to completion once.
TEST_F(Multimaster, ABuildOfAKilledMasterIsRetriedOnTheSurvivor) {
  startBoth("");
  s1.create();
  s1.start();
  ASSERT_TRUE(a.waitForLog("slave s1 connected")) << a.log();
  auto r = a.client({"force", "--scheduler", "force", "--builder", "slow", "--revision", "r1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return readFile(tmp.sub("runs")) == "started\n"; }, 30s)) << a.log();
  EXPECT_EQ(one("SELECT master_id FROM builds WHERE builder = 'slow'"), masterId("ma"));
  s2.create();
  s2.start();
  ASSERT_TRUE(b.waitForLog("slave s2 connected")) << b.log();
  // The master dies first, then its slave (the same machine): killed the
  // other way round, a master still alive for a moment sees its slave go
  // and retries the build itself, and nothing is left to take over.
  const auto killed = Clock::now();
  a.kill();
  s1.kill();
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'slow'") == 2; }, 30s, 50ms)) << b.log();
  const double retried = secondsSince(killed);
  std::cout << "SIGKILL of ma -> build retried on mb: " << retried << " s (dead_after 3 s)\n";
  writeFile(tmp.sub("gate"), "");
  ASSERT_TRUE(waitFor([&] { return count("buildrequests WHERE complete = 1") == 1; }, 30s)) << b.log();

  EXPECT_TRUE(contains(b.log(), "master ma (id " + masterId("ma") + ") declared dead")) << b.log();
  const auto builds = rows("SELECT master_id, slave, result, text FROM builds WHERE builder = 'slow' ORDER BY id");
  ASSERT_EQ(builds.size(), 2u);
  EXPECT_EQ(builds[0][0], masterId("ma"));
  EXPECT_EQ(builds[0][2], std::to_string(static_cast<int>(5)));  // RETRY
  EXPECT_TRUE(contains(builds[0][3], "master ma died")) << builds[0][3];
  EXPECT_EQ(builds[1][0], masterId("mb"));
  EXPECT_EQ(builds[1][1], "s2");
  EXPECT_EQ(builds[1][2], "0");
  EXPECT_EQ(count("buildrequests WHERE builder = 'slow'"), 1);
  EXPECT_EQ(one("SELECT result FROM buildrequests WHERE builder = 'slow'"), "0");
  EXPECT_EQ(one("SELECT active FROM masters WHERE name = 'ma'"), "0");
}

// A slave that lists both masters (create-slave --failover-master) moves
// to the survivor when its master dies, without being told: the killed
// master's build is retried there, on the same slave.
TEST_F(Multimaster, ASlaveListingBothMastersMovesToTheSurvivorAndRunsTheRetryThere) {
  startBoth("");
  const std::string bAddress = "127.0.0.1:" + std::to_string(b.port());
  s1.create({"--failover-master", bAddress + "=" + masterFingerprintFor(b.port())});
  EXPECT_TRUE(contains(readFile(s1.dir() + "/slave.yaml"), "masters:")) << readFile(s1.dir() + "/slave.yaml");
  s1.start();
  ASSERT_TRUE(a.waitForLog("slave s1 connected")) << a.log() << s1.log();
  auto r = a.client({"force", "--scheduler", "force", "--builder", "slow", "--revision", "r1"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return readFile(tmp.sub("runs")) == "started\n"; }, 30s)) << a.log();

  const auto killed = Clock::now();
  a.kill();
  ASSERT_TRUE(b.waitForLog("slave s1 connected")) << b.log() << s1.log();
  std::cout << "SIGKILL of ma -> s1 logged in to mb: " << secondsSince(killed) << " s\n";
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder = 'slow'") == 2; }, 30s, 50ms)) << b.log();
  std::cout << "SIGKILL of ma -> build retried on mb's s1: " << secondsSince(killed) << " s (dead_after 3 s)\n";
  writeFile(tmp.sub("gate"), "");
  ASSERT_TRUE(waitFor([&] { return count("buildrequests WHERE complete = 1") == 1; }, 30s)) << b.log();

  EXPECT_TRUE(contains(s1.log(), "trying master " + bAddress)) << s1.log();
  const auto builds = rows("SELECT master_id, slave, result FROM builds WHERE builder = 'slow' ORDER BY id");
  ASSERT_EQ(builds.size(), 2u);
  EXPECT_EQ(builds[0][0], masterId("ma"));
  EXPECT_EQ(builds[0][2], "5");  // RETRY
  EXPECT_EQ(builds[1][0], masterId("mb"));
  EXPECT_EQ(builds[1][1], "s1");
  EXPECT_EQ(builds[1][2], "0");
  EXPECT_EQ(readFile(tmp.sub("runs")), "started\nstarted\n");
  EXPECT_EQ(one("SELECT result FROM buildrequests WHERE builder = 'slow'"), "0");
}

// A master that stalls past dead_after (SIGSTOP here; a swapped-out or
// frozen host in life) is declared dead and its work taken over. When it
// runs again it finds its row inactive and exits at once, so it never
// runs what a survivor now runs.
TEST_F(Multimaster, AMasterDeclaredDeadWhileItStalledExitsWhenItWakes) {
  // `timed` (a tree-stable timer) runs on one master, A, the first to start.
  startBoth("  - {name: timed, type: single_branch, branch: main, tree_stable_timer: 60, builders: [b1]}\n");
  ASSERT_TRUE(b.waitForLog("scheduler timed: another master runs it; standing by")) << b.log();
  ::kill(a.pid(), SIGSTOP);
  ASSERT_TRUE(b.waitForLog("master ma (id " + masterId("ma") + ") declared dead", 20s)) << b.log();
  ::kill(a.pid(), SIGCONT);
  ASSERT_TRUE(waitFor([&] { return !a.running(); }, 20s)) << a.log();
  EXPECT_EQ(a.stop(), 3) << a.log();
  EXPECT_TRUE(contains(a.log(), "this master was declared dead by another master")) << a.log();
  // B took its schedulers when it declared it dead; `all` (no timer) runs
  // on both and was never claimed.
  EXPECT_EQ(one("SELECT master_id FROM scheduler_owners WHERE name = 'timed'"), masterId("mb"));
  EXPECT_EQ(one("SELECT count(*) FROM scheduler_owners WHERE name = 'all'"), "0");
}

// The password of the database user comes from database_password_file:
// the fixture's cluster makes the role bb_pw_user give a password
// (tests/pg_cluster.sh). A file others may read, and a wrong password, are
// refused with a line that says so.
TEST(DatabasePassword, ComesFromTheFileTheConfigNames) {
  TempDir tmp;
  MasterProcess m(tmp.sub("m"));
  m.create();
  const std::string role = "bb_pw_user";
  const std::string url = m.dbPath();
  postgresRows(url, "DROP ROLE IF EXISTS " + role);
  postgresRows(url, "CREATE ROLE " + role + " LOGIN SUPERUSER PASSWORD 'right horse'");
  std::string roleUrl = url;
  roleUrl.replace(roleUrl.find("//bb@"), 5, "//" + role + "@");
  auto config = [&](const std::string& file) {
    writeFile(m.dir() + "/master.yaml",
              "master: {name: pw, slave_port: " + std::to_string(m.port()) + ", database: " + q(roleUrl) +
                  ", database_password_file: " + file + "}\n"
                  "slaves: [{name: s1, password: " + q(verifier()) + "}]\n"
                  "builders: [{name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}]\n");
  };
  const std::string pwFile = m.dir() + "/db.password";
  config("db.password");

  writeFile(pwFile, "wrong horse\n");
  ::chmod(pwFile.c_str(), 0644);
  auto r = m.admin({"start", m.dir(), "--nodaemon"});
  EXPECT_NE(r.rc, 0) << r.describe();
  EXPECT_TRUE(contains(r.out + r.err + readFile(m.dir() + "/buildmaster.log"), "readable by group or others"))
      << r.describe();

  ::chmod(pwFile.c_str(), 0600);
  r = m.admin({"start", m.dir(), "--nodaemon"});
  EXPECT_NE(r.rc, 0) << r.describe();
  EXPECT_TRUE(contains(r.out + r.err + readFile(m.dir() + "/buildmaster.log"), "password authentication failed"))
      << r.describe();

  writeFile(pwFile, "right horse\n");
  ::chmod(pwFile.c_str(), 0600);
  m.start();
  const auto sessions = postgresRows(
      url, "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + role + "' AND application_name LIKE 'buildmaster%'");
  EXPECT_GE(std::stoi(sessions.at(0).at(0)), 1);
  EXPECT_EQ(m.stop(), 0) << m.log();
  // The password is in no log.
  EXPECT_FALSE(contains(m.log(), "right horse")) << m.log();
}

}  // namespace
}  // namespace bb::test
