// Several masters on one PostgreSQL database under load (issue 16): 500
// changes posted to the change hooks of randomly chosen masters, with the
// slaves spread over the masters; every change gets its request and every
// request is built exactly once, by whichever master had the free slave.
// Needs a shared server: only in the PostgreSQL pass (pg.MultimasterLoad.*,
// tests/CMakeLists.txt).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"
#include "tests/functional/test_database.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

struct LoadMaster {
  explicit LoadMaster(const std::string& dir) : process(dir) {}
  MasterProcess process;
  int web = freePort();
};

class MultimasterLoad : public ::testing::Test {
 protected:
  // `masters` masters, two slaves on each; `changes` changes posted to
  // random masters' change hooks (bounded: one POST each).
  // The scheduler `all` (no timer) runs on every master: each builds the
  // changes it accepted. With `killHalfway`, a second scheduler, `timed`
  // (a tree-stable timer, so it runs on one master), batches the same
  // changes for builder `t`, and the master running it is SIGKILLed once
  // half the changes are posted (every slave lists every master, its own
  // first, and moves on); the rest go to the survivors, one of which takes
  // `timed` over and catches up on what reached no running copy of it.
  void run(int masters, int changes, bool killHalfway = false) {
    const std::string built = tmp.sub("built");
    std::string slaveList, slaveNames;
    for (int i = 1; i <= 2 * masters; ++i) {
      slaveList += "  - {name: s" + std::to_string(i) + ", password: " + q(v) + "}\n";
      slaveNames += (i > 1 ? ", s" : "s") + std::to_string(i);
    }
    for (int m = 0; m < masters; ++m) {
      auto lm = std::make_unique<LoadMaster>(tmp.sub("m" + std::to_string(m)));
      if (m > 0) lm->process.shareDatabaseWith(all.front()->process);
      lm->process.create();
      lm->process.writeConfig(
          "master: {name: m" + std::to_string(m) + ", slave_port: " + std::to_string(lm->process.port()) +
          ", web_port: " + std::to_string(lm->web) + ", dead_after: " + (killHalfway ? "3" : "30") + "}\n"
          "slaves:\n" + slaveList +
          "users: [{name: alice, password: " + q(v) + ", may: [sendchange, status]}]\n"
          "builders:\n"
          "  - {name: b, slaves: [" + slaveNames + "], steps: [{shell: {command: \"" +
          (killHalfway ? "sleep 0.05; " : "") + "echo %(prop:revision)s >> " + built + "\"}}]}\n" +
          (killHalfway ? "  - {name: t, slaves: [" + slaveNames + "], steps: [{shell: {command: \"true\"}}]}\n" : "") +
          "schedulers:\n"
          "  - {name: all, type: single_branch, branch: main, builders: [b]}\n" +
          (killHalfway ? "  - {name: timed, type: single_branch, branch: main, tree_stable_timer: 1, builders: [t]}\n"
                       : ""));
      all.push_back(std::move(lm));
    }
    for (auto& m : all) m->process.start();
    for (int i = 1; i <= 2 * masters; ++i) {
      MasterProcess& home = all[(i - 1) % masters]->process;
      slaves.push_back(std::make_unique<SlaveProcess>(tmp.sub("s" + std::to_string(i)), home.port(),
                                                      "s" + std::to_string(i), "pw"));
      std::vector<std::string> failover;
      for (int k = 1; killHalfway && k < masters; ++k) {
        const int other = all[((i - 1) % masters + k) % masters]->process.port();
        failover.insert(failover.end(), {"--failover-master", "127.0.0.1:" + std::to_string(other) + "=" +
                                                                 masterFingerprintFor(other)});
      }
      slaves.back()->create(failover);
      slaves.back()->start();
    }
    for (int i = 1; i <= 2 * masters; ++i)
      ASSERT_TRUE(all[(i - 1) % masters]->process.waitForLog("slave s" + std::to_string(i) + " connected"))
          << all[(i - 1) % masters]->process.log();

    std::mt19937 rng(20261202);
    std::map<int, int> postedTo;
    const auto start = std::chrono::steady_clock::now();
    std::vector<int> alive;
    for (int m = 0; m < masters; ++m) alive.push_back(m);
    victim = -1;
    for (int c = 0; c < changes; ++c) {
      if (killHalfway && c == changes / 2) {
        const std::string owner = sqlite(all.front()->process.dbPath(),
                                         "SELECT m.name FROM scheduler_owners o JOIN masters m ON o.master_id = m.id"
                                         " WHERE o.name = 'timed'").at(0).at(0);
        victim = std::stoi(owner.substr(1));
        all[victim]->process.kill();
        alive.erase(alive.begin() + victim);
      }
      const int m = alive[rng() % alive.size()];
      HttpOptions o;
      o.user = "alice";
      o.password = "pw";
      o.headers = {{"Content-Type", "application/json"}};
      o.body = Json{{"branch", "main"}, {"revision", "r" + std::to_string(c)}, {"author", "dev"},
                    {"files", {"f" + std::to_string(c)}}}.dump();
      const HttpReply r = httpRequest(all[m]->web, "POST", "/change_hook/base", o);
      ASSERT_EQ(r.status, 200) << "change " << c << " on m" << m << ": " << r.body;
      ++postedTo[m];
    }
    const double posted = seconds(start);
    // With `timed`: every change in exactly one of its BuildSets, and
    // every request complete.
    const std::string timedOnce =
        "(SELECT bc.change_id FROM buildset_changes bc JOIN buildsets s ON s.id = bc.buildset_id"
        " WHERE s.scheduler = 'timed' GROUP BY bc.change_id HAVING count(*) = 1) AS once";
    ASSERT_TRUE(waitFor([&] {
      return count("buildrequests WHERE builder = 'b' AND complete = 1") == changes &&
             (!killHalfway || (count(timedOnce) == changes && count("buildrequests WHERE complete = 0") == 0));
    }, 120s, 200ms))
        << count("buildrequests WHERE builder = 'b' AND complete = 1") << " of " << changes << " requests complete; "
        << count("changes") << " changes, " << count("buildsets") << " buildsets, " << count("buildrequests")
        << " requests\n"
        << all[0]->process.log();
    std::cout << masters << " masters: " << changes << " changes posted in " << posted << " s, all built "
              << seconds(start) << " s after the first\n";

    // Every change made one BuildSet of `all` with one request, built
    // once, green; `all` was never claimed (it runs on every master).
    EXPECT_EQ(count("changes"), changes);
    EXPECT_EQ(count("buildsets WHERE scheduler = 'all'"), changes);
    EXPECT_EQ(count("buildrequests WHERE builder = 'b'"), changes);
    EXPECT_EQ(count("buildrequests WHERE builder = 'b' AND result = 0"), changes);
    EXPECT_EQ(count("builds WHERE builder = 'b' AND result = 0"), changes);
    EXPECT_EQ(count("scheduler_owners WHERE name = 'all'"), 0);
    if (killHalfway) {  // `timed`: each change in one BuildSet, each built once
      EXPECT_EQ(count(timedOnce), changes);
      EXPECT_EQ(count("buildrequests WHERE builder = 't' AND result <> 0"), 0);
    }
    // A request has one successful build; only the killed master's
    // builds ended RETRY, each followed by one elsewhere.
    EXPECT_EQ(count("(SELECT request_id FROM builds WHERE result = 0 GROUP BY request_id HAVING count(*) > 1) AS twice"), 0);
    const int retried = count("builds WHERE builder = 'b' AND result = 5");
    std::cout << retried << " builds of the killed master retried\n";
    EXPECT_EQ(count("builds WHERE builder = 'b'"), changes + retried);
    if (!killHalfway) EXPECT_EQ(retried, 0);
    else EXPECT_EQ(count("builds b JOIN masters m ON b.master_id = m.id WHERE b.result = 5 AND m.name <> 'm" +
                         std::to_string(victim) + "'"),
                   0);
    if (killHalfway) {  // the survivor that took `timed` caught up on what reached nobody
      bool caughtUp = false;
      for (std::size_t m = 0; m < all.size(); ++m)
        caughtUp = caughtUp || (static_cast<int>(m) != victim && contains(all[m]->process.log(), "caught up on"));
      EXPECT_TRUE(caughtUp);
    }
    if (killHalfway) {  // its scheduler runs on a survivor now
      EXPECT_NE(sqlite(all.front()->process.dbPath(),
                       "SELECT m.name FROM scheduler_owners o JOIN masters m ON o.master_id = m.id WHERE o.name = 'timed'")
                    .at(0).at(0),
                "m" + std::to_string(victim));
    }
    EXPECT_EQ(count("(SELECT builder, number FROM builds GROUP BY builder, number HAVING count(*) > 1) AS same"), 0);
    // And the slaves ran each revision once.
    std::set<std::string> revisions;
    std::istringstream lines(readFile(built));
    int n = 0;
    for (std::string line; std::getline(lines, line); ++n) revisions.insert(line);
    // A step that finished on a slave of the killed master just before it
    // died ran again in the retry: the slaves may have run a revision twice
    // then (at least once, as any CI after a crash), otherwise once.
    if (killHalfway) EXPECT_LE(n, changes + retried);
    else EXPECT_EQ(n, changes);
    EXPECT_EQ(static_cast<int>(revisions.size()), changes);
    EXPECT_TRUE(revisions.count("r0") && revisions.count("r" + std::to_string(changes - 1)));

    // Each master accepted changes, and builds ran on more than one master.
    const auto perMaster = sqlite(all[0]->process.dbPath(),
                                  "SELECT m.name, count(b.id) FROM masters m LEFT JOIN builds b ON b.master_id = m.id"
                                  " GROUP BY m.name ORDER BY m.name");
    int mastersThatBuilt = 0;
    std::string spread;
    for (const auto& row : perMaster) {
      spread += row.at(0) + "=" + row.at(1) + " ";
      if (std::stoi(row.at(1)) > 0) ++mastersThatBuilt;
    }
    std::cout << "builds per master: " << spread << "\n";
    EXPECT_EQ(static_cast<int>(postedTo.size()), masters) << "some master got no change";
    EXPECT_GE(mastersThatBuilt, 2) << spread;
    for (std::size_t m = 0; m < all.size(); ++m) {
      if (static_cast<int>(m) != victim) {
        EXPECT_FALSE(contains(all[m]->process.log(), "[error]")) << all[m]->process.log();
      }
    }
  }

  static double seconds(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  int count(const std::string& from) {
    return std::stoi(sqlite(all.front()->process.dbPath(), "SELECT count(*) FROM " + from).at(0).at(0));
  }

  TempDir tmp;
  std::string v = makeVerifier("pw");
  std::vector<std::unique_ptr<LoadMaster>> all;
  std::vector<std::unique_ptr<SlaveProcess>> slaves;
  int victim = -1;  // the master killed halfway
};

TEST_F(MultimasterLoad, FiveHundredChangesOnTwoMastersAreEachBuiltExactlyOnce) { run(2, 500); }

TEST_F(MultimasterLoad, FiveHundredChangesOnThreeMastersAreEachBuiltExactlyOnce) { run(3, 500); }

// Three masters, one SIGKILLed halfway: its running builds end RETRY and are
// built again on the survivors, its slaves move there, its schedulers are
// taken over, and every accepted change is still built, once.
TEST_F(MultimasterLoad, AMasterKilledHalfwayLosesNothingAndNoRequestSucceedsTwice) { run(3, 300, true); }

// A PostgreSQL cluster of this test's own (tests/pg_cluster.sh), so that
// taking it down does not disturb the tests running beside it.
class OwnCluster {
 public:
  explicit OwnCluster(std::string dir) : dir_(std::move(dir)) { script("start"); }
  ~OwnCluster() {
    try {
      script("stop");
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
    }
  }
  void script(const std::string& verb) {
    const CmdResult r = run({"/bin/bash", std::string(BB_SOURCE_DIR) + "/tests/pg_cluster.sh", verb, dir_},
                                  "", {}, 120s);
    if (r.rc != 0) throw std::runtime_error("pg_cluster.sh " + verb + " failed: " + r.describe());
  }
  // A new database on it; its URL.
  std::string database(const std::string& name) {
    const std::string base = trimmed(readFile(dir_ + "/url"));
    postgresRows(base + "/postgres", "CREATE DATABASE " + name);
    return base + "/" + name;
  }

 private:
  static std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  std::string dir_;
};

// PostgreSQL restarted under load: two masters, changes posted to both
// before, during and after the server is down for a few seconds. A post
// while it is down is refused (the change is not accepted, and the
// sender hears so); every accepted change is built exactly once after the
// masters reconnect.
TEST_F(MultimasterLoad, PostgresRestartedUnderLoadLosesNothingAccepted) {
  OwnCluster cluster(tmp.sub("pg"));
  const std::string url = cluster.database("restart_load");
  const std::string built = tmp.sub("built");
  for (int m = 0; m < 2; ++m) {
    auto lm = std::make_unique<LoadMaster>(tmp.sub("m" + std::to_string(m)));
    lm->process.useDatabase(url);
    lm->process.create();
    lm->process.writeConfig(
        "master: {name: m" + std::to_string(m) + ", slave_port: " + std::to_string(lm->process.port()) +
        ", web_port: " + std::to_string(lm->web) + ", dead_after: 60}\n"
        "slaves: [{name: s0, password: " + q(v) + "}, {name: s1, password: " + q(v) + "}]\n"
        "users: [{name: alice, password: " + q(v) + ", may: [sendchange, status]}]\n"
        "builders:\n"
        "  - {name: b, slaves: [s0, s1], steps: [{shell: {command: \"sleep 0.02; echo %(prop:revision)s >> " +
        built + "\"}}]}\n"
        "schedulers:\n"
        "  - {name: all, type: single_branch, branch: main, builders: [b]}\n");
    all.push_back(std::move(lm));
  }
  for (auto& m : all) m->process.start();
  for (int i = 0; i < 2; ++i) {
    slaves.push_back(std::make_unique<SlaveProcess>(tmp.sub("s" + std::to_string(i)), all[i]->process.port(),
                                                    "s" + std::to_string(i), "pw"));
    slaves.back()->create();
    slaves.back()->start();
    ASSERT_TRUE(all[i]->process.waitForLog("slave s" + std::to_string(i) + " connected")) << all[i]->process.log();
  }

  constexpr int kChanges = 200;
  std::mt19937 rng(7);
  std::set<std::string> accepted;
  int refused = 0;
  auto post = [&](int c) {
    HttpOptions o;
    o.user = "alice";
    o.password = "pw";
    o.timeout = 30s;
    o.headers = {{"Content-Type", "application/json"}};
    o.body = Json{{"branch", "main"}, {"revision", "r" + std::to_string(c)}, {"author", "dev"}}.dump();
    const HttpReply r = httpRequest(all[rng() % 2]->web, "POST", "/change_hook/base", o);
    if (r.status == 200) accepted.insert("r" + std::to_string(c));
    else ++refused;
    return r;
  };
  for (int c = 0; c < kChanges / 2; ++c) ASSERT_EQ(post(c).status, 200) << "change " << c;
  cluster.script("down");
  // Bounded: ten posts while the server is down.
  std::string refusal;
  for (int c = kChanges / 2; c < kChanges / 2 + 10; ++c) {
    const HttpReply r = post(c);
    if (r.status != 200 && refusal.empty()) refusal = std::to_string(r.status) + " " + r.body;
  }
  cluster.script("up");
  // The rest after it is back (the first few may still meet a master that
  // has not reconnected yet: refused, not lost).
  for (int c = kChanges / 2 + 10; c < kChanges; ++c) post(c);
  std::cout << accepted.size() << " changes accepted, " << refused << " refused; a refusal: " << refusal << "\n";
  EXPECT_GE(refused, 1) << "no post was refused while the server was down";
  // Refused as unavailable (ask again), not as a fault of the request.
  EXPECT_EQ(refusal.rfind("503 ", 0), 0u) << refusal;
  EXPECT_TRUE(contains(refusal, "nothing was stored")) << refusal;

  const int n = static_cast<int>(accepted.size());
  ASSERT_TRUE(waitFor([&] { return count("buildrequests WHERE complete = 1") == n; }, 120s, 200ms))
      << count("buildrequests WHERE complete = 1") << " of " << n << " requests complete; " << count("changes")
      << " changes, " << count("buildsets") << " buildsets\n"
      << all[0]->process.log() << all[1]->process.log();
  // What was accepted is stored and built, once; nothing refused was kept.
  std::set<std::string> stored;
  for (const auto& row : sqlite(url, "SELECT revision FROM changes")) stored.insert(row.at(0));
  EXPECT_EQ(stored, accepted);
  EXPECT_EQ(count("buildsets"), n);
  EXPECT_EQ(count("buildrequests WHERE result = 0"), n);
  EXPECT_EQ(count("(SELECT request_id FROM builds WHERE result = 0 GROUP BY request_id HAVING count(*) > 1) AS twice"), 0);
  std::set<std::string> ran;
  std::istringstream lines(readFile(built));
  for (std::string line; std::getline(lines, line);) ran.insert(line);
  EXPECT_EQ(ran, accepted);
  for (auto& m : all) EXPECT_TRUE(m->process.running()) << m->process.log();
  // A build that met the outage ended RETRY, not counted against its
  // request, and ran again (how many did depends on the timing).
  std::cout << count("builds WHERE result = 5 AND text LIKE '%database could not be reached%'")
            << " build(s) ended retry for the outage\n";
  EXPECT_EQ(count("builds WHERE result NOT IN (0, 5)"), 0);
}

}  // namespace
}  // namespace bb::test
