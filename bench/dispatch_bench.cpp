// Dispatch benchmark: N sendchanges causing N no-op builds (`true`) on 1
// and on 4 slaves. Reports builds per second, p50/p99 change-to-build-
// finished latency (from the master's own log timestamps), master CPU per
// build and master peak RSS. Usage: dispatch_bench [--tls=on|off] [--lock]
// [BUILDS] [SLAVES...] (TLS is on by default, as for a new master).
// --lock: every build takes a master-scoped counting lock whose limit is the
// number of slaves (so it never makes a build wait): what taking and
// releasing the lock costs, in memory on SQLite and in the database too on
// PostgreSQL (docs/multimaster.md, "Master-scoped locks").
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

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
  double dbCpuMsPerBuild = -1;  // the master's PostgreSQL backend; -1 on SQLite
};

bool gTls = true;
bool gLock = false;

Figures runOnce(int builds, int slaves) {
  TempDir tmp("bb-bench-dispatch");
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  std::ostringstream y;
  y << "master: {name: bench, slave_port: " << master.port() << ", database: \"sqlite:state.sqlite\""
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
  master.create();
  master.writeConfig(y.str());
  master.start();
  std::vector<std::unique_ptr<SlaveProcess>> procs;
  for (int i = 1; i <= slaves; ++i) {
    procs.push_back(std::make_unique<SlaveProcess>(tmp.sub("slave" + std::to_string(i)), master.port(),
                                                   "s" + std::to_string(i), "pw"));
    procs.back()->create();
    procs.back()->start();
  }
  for (int i = 1; i <= slaves; ++i)
    if (!master.waitForLog("slave s" + std::to_string(i) + " connected", 30s))
      throw std::runtime_error("slave did not connect:\n" + master.log());
  const pid_t pid = bench::readPid(master.dir() + "/buildmaster.pid");
  const double cpu0 = bench::cpuSeconds(pid);
  // On PostgreSQL (BB_TEST_DATABASE=postgresql:DIR): the server process
  // serving the master's connection, whose CPU is the database's cost.
  pid_t backend = 0;
  if (postgresMode()) {
    const auto rows = sqlite(master.dbPath(),
                             "SELECT pid FROM pg_stat_activity WHERE application_name = 'buildmaster'"
                             " AND datname = current_database()");
    if (rows.size() != 1) throw std::runtime_error("cannot find the master's PostgreSQL backend");
    backend = static_cast<pid_t>(std::stol(rows[0][0]));
  }
  const double dbCpu0 = backend ? bench::cpuSeconds(backend) : 0;

  client::MasterClient c({"127.0.0.1", static_cast<std::uint16_t>(master.port())}, {"bench", "pw"},
                            bench::clientOptions(master));
  c.connect();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < builds; ++i)
    c.call("sendchange", Json{{"author", "bench"}, {"branch", "main"}, {"revision", "r" + std::to_string(i)}});
  const std::string countSql = "SELECT count(*) FROM builds WHERE finished=1";
  if (!waitFor([&] { return std::stoi(sqlite(master.dbPath(), countSql)[0][0]) >= builds; }, 600s, 5ms))
    throw std::runtime_error("builds did not finish");
  const auto t1 = std::chrono::steady_clock::now();
  double dbCpuMs = -1;
  const double cpu1 = bench::cpuSeconds(pid);
  if (backend) dbCpuMs = (bench::cpuSeconds(backend) - dbCpu0) * 1000.0 / builds;
  Figures f;
  f.slaves = slaves;
  f.builds = builds;
  f.peakMiB = bench::memoryMiB(pid);
  f.seconds = std::chrono::duration<double>(t1 - t0).count();
  f.buildsPerSec = builds / f.seconds;
  f.cpuMsPerBuild = (cpu1 - cpu0) * 1000.0 / builds;
  f.dbCpuMsPerBuild = dbCpuMs;
  c.close();
  for (auto& s : procs) s->stop();
  master.stop();

  // Latency per change, from the master's log: "change N accepted" to the
  // "build noop #M finished" of the build made for it.
  std::map<std::int64_t, std::int64_t> changeAt, buildAt;
  std::istringstream log(readFile(master.dir() + "/buildmaster.log"));
  std::string line;
  while (std::getline(log, line)) {
    auto p = line.find("] change ");
    if (p != std::string::npos && line.find(" accepted") != std::string::npos)
      changeAt[std::stoll(line.substr(p + 9))] = bench::logLineMs(line);
    p = line.find("] build noop #");
    if (p != std::string::npos && line.find(" finished") != std::string::npos)
      buildAt[std::stoll(line.substr(p + 14))] = bench::logLineMs(line);
  }
  std::vector<double> lat;
  for (const auto& row : sqlite(master.dbPath(),
                                "SELECT bc.change_id, b.number FROM builds b JOIN buildrequests r ON "
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
    if (std::string(argv[i]) == "--lock") gLock = true;
    else argv[kept++] = argv[i];
  }
  argc = kept;
  std::cout << "TLS " << (gTls ? "on" : "off") << (gLock ? ", a master lock per build" : "") << ", database "
            << (postgresMode() ? "PostgreSQL" : "SQLite") << "\n";
  const int builds = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::vector<int> slaveCounts;
  for (int i = 2; i < argc; ++i) slaveCounts.push_back(std::atoi(argv[i]));
  if (slaveCounts.empty()) slaveCounts = {1, 4};
  std::printf("%-7s %-7s %-9s %-10s %-12s %-12s %-14s %-10s %s\n", "slaves", "builds", "seconds", "builds/s",
              "p50 ms", "p99 ms", "CPU ms/build", "peak MiB", postgresMode() ? "db CPU ms/build" : "");
  for (int s : slaveCounts) {
    try {
      Figures f = runOnce(builds, s);
      std::printf("%-7d %-7d %-9.2f %-10.1f %-12.1f %-12.1f %-14.3f %-10.1f", f.slaves, f.builds, f.seconds,
                  f.buildsPerSec, f.p50, f.p99, f.cpuMsPerBuild, f.peakMiB);
      if (f.dbCpuMsPerBuild >= 0) std::printf(" %.3f", f.dbCpuMsPerBuild);
      std::printf("\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dispatch_bench with %d slave(s) failed: %s\n", s, e.what());
      return 1;
    }
  }
  return 0;
}
