// Dispatch benchmark: N sendchanges causing N no-op builds (`true`) on 1
// and on 4 slaves. Reports builds per second, p50/p99 change-to-build-
// finished latency (from the master's own log timestamps), master CPU per
// build and master peak RSS. Usage: dispatch_bench [--tls=on|off] [--lock]
// [--masters=N] [--rate=R] [--standby] [BUILDS] [SLAVES...] (TLS is on by default, as for a new
// master). --masters=N: N masters on one PostgreSQL database share the
// slaves and the changes (docs/multimaster.md); the CPU is theirs summed.
// --lock: every build takes a master-scoped counting lock whose limit is the
// number of slaves (so it never makes a build wait): what taking and
// releasing the lock costs, in memory on SQLite and in the database too on
// PostgreSQL (docs/multimaster.md, "Master-scoped locks").
// --rate=R: the changes are sent at R a second in all (change i at i/R s
// from the start) instead of as fast as the masters answer, so the masters
// are not saturated: CPU per build at the same offered load, as a master
// that keeps up with its changes spends it. --standby (with --masters=N):
// every slave and every change on the first master, the others only
// listening: what a master standing by costs per build of another.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "bench/bench_util.hpp"
#include "client/master_client.hpp"
#include "tests/functional/harness.hpp"
#include "tests/functional/test_database.hpp"

using namespace bb;
using namespace bb::test;
using namespace std::chrono_literals;

namespace {

struct Figures {
  int slaves = 0, builds = 0;
  double seconds = 0, buildsPerSec = 0, p50 = 0, p99 = 0, cpuMsPerBuild = 0, peakMiB = 0;
  std::vector<double> cpuMsPerMaster;  // each master's share of cpuMsPerBuild
  double notifiesPerBuild = -1;         // NOTIFYs the masters sent; -1 on SQLite
  double heardPerBuild = -1;            // notifications the masters heard from each other
  double dbCpuMsPerBuild = -1;  // the masters' PostgreSQL backends; -1 on SQLite
  // The masters' statements and round trips to PostgreSQL (from the line
  // each logs at its stop); -1 on SQLite.
  double statementsPerBuild = -1, roundTripsPerBuild = -1;
  // The distributors' passes over the queue and the claims another master
  // won first (from the line each logs at its stop).
  double passesPerBuild = 0, lostPerBuild = 0;
};

bool gTls = true;
bool gLock = false;
int gMasters = 1;
double gRate = 0;  // changes a second in all; 0: as fast as answered
bool gStandby = false;  // --standby: every slave and change on the first master
// The master that slave or change i goes to.
std::size_t masterFor(int i) { return gStandby ? 0 : static_cast<std::size_t>(i % gMasters); }

std::string configFor(const std::string& name, int port, int slaves) {
  const std::string v = makeVerifier("pw");
  std::ostringstream y;
  y << "master: {name: " << name << ", slave_port: " << port << ", database: \"sqlite:state.sqlite\""
    << bench::tlsKey(gTls) << "}\n"
    << "slaves:\n";
  for (int i = 1; i <= slaves; ++i) y << "  - {name: s" << i << ", password: \"" << v << "\", max_builds: 1}\n";
  y << "users: [{name: bench, password: \"" << v << "\", may: [sendchange, status]}]\n";
  if (gLock) y << "locks: [{name: pool, scope: master, max_count: " << slaves << "}]\n";
  y << "builders:\n  - name: noop\n    slaves: [";
  for (int i = 1; i <= slaves; ++i) y << (i > 1 ? ", " : "") << "s" << i;
  y << "]\n";
  if (gLock) y << "    locks: [{lock: pool, access: counting}]\n";
  y << "    steps: [{shell: {name: noop, command: [\"true\"]}}]\n"
    << "schedulers: [{name: all, type: single_branch, branch: main, builders: [noop]}]\n";
  return y.str();
}

// With --masters=N (PostgreSQL only) N masters share the database; slave i
// connects to master i mod N and change i is sent to master i mod N, so
// the scheduler's master hears of the others' changes through NOTIFY and
// a build runs on whichever master has the free slave.
Figures runOnce(int builds, int slaves) {
  TempDir tmp("bb-bench-dispatch");
  std::vector<std::unique_ptr<MasterProcess>> masters;
  for (int m = 0; m < gMasters; ++m) {
    masters.push_back(std::make_unique<MasterProcess>(tmp.sub("master" + std::to_string(m + 1))));
    auto& master = *masters.back();
    if (m > 0) master.shareDatabaseWith(*masters.front());
    master.create();
    master.writeConfig(configFor(gMasters == 1 ? "bench" : "bench" + std::to_string(m + 1), master.port(), slaves));
    master.start();
  }
  std::vector<std::unique_ptr<SlaveProcess>> procs;
  for (int i = 1; i <= slaves; ++i) {
    auto& master = *masters[masterFor(i)];
    procs.push_back(std::make_unique<SlaveProcess>(tmp.sub("slave" + std::to_string(i)), master.port(),
                                                   "s" + std::to_string(i), "pw"));
    procs.back()->create();
    procs.back()->start();
    if (!master.waitForLog("slave s" + std::to_string(i) + " connected", 30s))
      throw std::runtime_error("slave did not connect:\n" + master.log());
  }
  const std::string db = masters.front()->dbPath();
  std::vector<pid_t> pids;
  std::vector<double> cpu0;
  for (auto& m : masters) {
    pids.push_back(bench::readPid(m->dir() + "/buildmaster.pid"));
    cpu0.push_back(bench::cpuSeconds(pids.back()));
  }
  // On PostgreSQL (BB_TEST_DATABASE=postgresql:DIR): the server processes
  // serving the masters' connections (each master's own and its listening
  // session), whose CPU is the database's cost.
  std::vector<pid_t> backends;
  if (postgresMode()) {
    for (const auto& row : sqlite(db, "SELECT pid FROM pg_stat_activity WHERE application_name IN "
                                      "('buildmaster', 'buildmaster-listener') AND datname = current_database()"))
      backends.push_back(static_cast<pid_t>(std::stol(row[0])));
    if (backends.size() < masters.size()) throw std::runtime_error("cannot find the masters' PostgreSQL backends");
  }
  double dbCpu0 = 0;
  for (const auto b : backends) dbCpu0 += bench::cpuSeconds(b);

  std::vector<std::unique_ptr<client::MasterClient>> clients;
  for (auto& m : masters) {
    clients.push_back(std::make_unique<client::MasterClient>(
        MasterAddress{"127.0.0.1", static_cast<std::uint16_t>(m->port())}, client::Credentials{"bench", "pw"},
        bench::clientOptions(*m)));
    clients.back()->connect();
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < builds; ++i) {
    if (gRate > 0) std::this_thread::sleep_until(t0 + std::chrono::duration<double>(i / gRate));
    clients[masterFor(i)]->call(
        "sendchange", Json{{"author", "bench"}, {"branch", "main"}, {"revision", "r" + std::to_string(i)}});
  }
  const std::string countSql = "SELECT count(*) FROM builds WHERE finished=1";
  if (!waitFor([&] { return std::stoi(sqlite(db, countSql)[0][0]) >= builds; }, 600s, 5ms))
    throw std::runtime_error("builds did not finish");
  const auto t1 = std::chrono::steady_clock::now();
  Figures f;
  f.slaves = slaves;
  f.builds = builds;
  for (std::size_t m = 0; m < masters.size(); ++m) {
    const double ms = (bench::cpuSeconds(pids[m]) - cpu0[m]) * 1000.0 / builds;
    f.cpuMsPerMaster.push_back(ms);
    f.cpuMsPerBuild += ms;
    f.peakMiB = std::max(f.peakMiB, bench::memoryMiB(pids[m]));
  }
  if (!backends.empty()) {
    double dbCpu1 = 0;
    for (const auto b : backends) dbCpu1 += bench::cpuSeconds(b);
    f.dbCpuMsPerBuild = (dbCpu1 - dbCpu0) * 1000.0 / builds;
  }
  f.seconds = std::chrono::duration<double>(t1 - t0).count();
  f.buildsPerSec = builds / f.seconds;
  for (auto& c : clients) c->close();
  for (auto& s : procs) s->stop();
  for (auto& m : masters) m->stop();

  // Latency per change, from the masters' logs: "change N accepted" to the
  // "build noop #M finished" of the build made for it.
  std::map<std::int64_t, std::int64_t> changeAt, buildAt;
  for (auto& m : masters) {
    std::istringstream log(readFile(m->dir() + "/buildmaster.log"));
    std::string line;
    while (std::getline(log, line)) {
      // At its stop a master on a shared database counts its NOTIFYs (the
      // whole run, the few before the first change included).
      // "cluster: N notification(s) sent to other masters, M heard from
      // them": N counts the targeted ones (changes, completed BuildSets)
      // even when no master wanted them; M what the others woke for.
      if (auto n = line.find("] cluster: "); n != std::string::npos && line.find(" notification(s) sent") != std::string::npos) {
        f.notifiesPerBuild = std::max(0.0, f.notifiesPerBuild) + std::stod(line.substr(n + 11)) / builds;
        if (const auto h = line.find(" heard from them"); h != std::string::npos)
          f.heardPerBuild = std::max(0.0, f.heardPerBuild) + std::stod(line.substr(line.rfind(", ", h) + 2)) / builds;
      }
      // "database: N statement(s), A of them sent ahead, in R round trip(s)"
      if (auto n = line.find("] database: "); n != std::string::npos && line.find(" round trip(s)") != std::string::npos) {
        std::istringstream words(line.substr(n + 12));
        double statements = 0, ahead = 0, trips = 0;
        std::string w;
        words >> statements >> w >> ahead;
        while (words >> w && w != "in") {
        }
        words >> trips;
        f.statementsPerBuild = std::max(0.0, f.statementsPerBuild) + statements / builds;
        f.roundTripsPerBuild = std::max(0.0, f.roundTripsPerBuild) + trips / builds;
      }
      // "distributor: P pass(es) read the queue (G page(s)), C request(s) claimed, L lost to another master"
      if (auto n = line.find("] distributor: "); n != std::string::npos) {
        const std::string rest = line.substr(n + 15);
        const auto lost = rest.find("claimed, ");
        f.passesPerBuild += std::stod(rest) / builds;
        if (lost != std::string::npos) f.lostPerBuild += std::stod(rest.substr(lost + 9)) / builds;
      }
      auto p = line.find("] change ");
      if (p != std::string::npos && line.find(" accepted") != std::string::npos)
        changeAt[std::stoll(line.substr(p + 9))] = bench::logLineMs(line);
      p = line.find("] build noop #");
      if (p != std::string::npos && line.find(" finished") != std::string::npos)
        buildAt[std::stoll(line.substr(p + 14))] = bench::logLineMs(line);
    }
  }
  std::vector<double> lat;
  for (const auto& row : sqlite(db, "SELECT bc.change_id, b.number FROM builds b JOIN buildrequests r ON "
                                    "b.request_id=r.id JOIN buildset_changes bc ON bc.buildset_id=r.buildset_id")) {
    auto c0 = changeAt.find(std::stoll(row[0]));
    auto b1 = buildAt.find(std::stoll(row[1]));
    if (c0 != changeAt.end() && b1 != buildAt.end()) lat.push_back(static_cast<double>(b1->second - c0->second));
  }
  f.p50 = bench::percentile(lat, 50);
  f.p99 = bench::percentile(lat, 99);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  gTls = bench::takeTlsSwitch(argc, argv);
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--lock") gLock = true;
    else if (a.rfind("--masters=", 0) == 0) gMasters = std::atoi(a.c_str() + 10);
    else if (a.rfind("--rate=", 0) == 0) gRate = std::atof(a.c_str() + 7);
    else if (a == "--standby") gStandby = true;
    else argv[kept++] = argv[i];
  }
  argc = kept;
  if (gMasters < 1 || gMasters > 8 || (gMasters > 1 && !postgresMode())) {
    std::fprintf(stderr, "--masters=N takes 1 to 8, and more than 1 needs BB_TEST_DATABASE=postgresql:DIR\n");
    return 2;
  }
  if (gRate < 0 || gRate > 10000) {
    std::fprintf(stderr, "--rate=R takes 0 (as fast as answered) to 10000 changes a second\n");
    return 2;
  }
  std::cout << "TLS " << (gTls ? "on" : "off") << (gLock ? ", a master lock per build" : "") << ", database "
            << (postgresMode() ? "PostgreSQL" : "SQLite") << ", " << gMasters << " master(s)";
  if (gRate > 0) std::cout << ", changes sent at " << gRate << "/s";
  if (gStandby && gMasters > 1) std::cout << ", every slave and change on the first master (the others stand by)";
  std::cout << "\n";
  const int builds = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::vector<int> slaveCounts;
  for (int i = 2; i < argc; ++i) slaveCounts.push_back(std::atoi(argv[i]));
  if (slaveCounts.empty()) slaveCounts = {1, 4};
  std::printf("%-7s %-7s %-9s %-10s %-12s %-12s %-14s %-10s %-13s %-11s %s\n", "slaves", "builds", "seconds",
              "builds/s", "p50 ms", "p99 ms", "CPU ms/build", "peak MiB", "passes/build", "lost/build",
              postgresMode() ? "db CPU ms/build NOTIFY/build heard/build statements/build round trips/build" : "");
  for (int s : slaveCounts) {
    try {
      Figures f = runOnce(builds, s);
      std::printf("%-7d %-7d %-9.2f %-10.1f %-12.1f %-12.1f %-14.3f %-10.1f %-13.2f %-11.3f", f.slaves, f.builds,
                  f.seconds, f.buildsPerSec, f.p50, f.p99, f.cpuMsPerBuild, f.peakMiB, f.passesPerBuild,
                  f.lostPerBuild);
      if (f.dbCpuMsPerBuild >= 0) std::printf(" %-15.3f", f.dbCpuMsPerBuild);
      if (f.notifiesPerBuild >= 0) std::printf(" %-12.2f %-11.2f", f.notifiesPerBuild, std::max(0.0, f.heardPerBuild));
      if (f.statementsPerBuild >= 0) std::printf(" %-16.1f %-17.1f", f.statementsPerBuild, f.roundTripsPerBuild);
      if (f.cpuMsPerMaster.size() > 1) {
        std::printf(" per master:");
        for (const double ms : f.cpuMsPerMaster) std::printf(" %.3f", ms);
      }
      std::printf("\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dispatch_bench with %d slave(s) failed: %s\n", s, e.what());
      return 1;
    }
  }
  return 0;
}
