// Lock contention benchmark: BUILDS forced builds (default 1000) of one
// builder on 8 slaves (max_builds 2 each, so 16 slots) that all take a
// master-scoped counting lock `pool` with max_count 3. The step sleeps
// 10 ms so that holding the lock takes visible time. Reports builds/s,
// the wait of each request from its buildset's creation to its build's
// start (p50/p99/max and Jain's fairness index, from the master's log
// timestamps) and the largest number of builds running at once (which the
// lock must keep at 3 or below). Usage: contention_bench [BUILDS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "client/master_client.hpp"
#include "tests/functional/harness.hpp"

using namespace bb;
using namespace bb::test;
using namespace std::chrono_literals;

namespace {

constexpr int kSlaves = 8;
constexpr int kMaxBuilds = 2;
constexpr int kLockMax = 3;

// Integer after `prefix` in `line` at or after position `from`; -1 if none.
long long numberAfter(const std::string& line, const std::string& prefix, std::size_t from = 0) {
  const auto p = line.find(prefix, from);
  if (p == std::string::npos) return -1;
  try {
    return std::stoll(line.substr(p + prefix.size()));
  } catch (const std::exception&) {
    return -1;
  }
}

double jain(const std::vector<double>& x) {
  double s = 0, s2 = 0;
  for (double v : x) s += v, s2 += v * v;
  return s2 > 0 ? s * s / (static_cast<double>(x.size()) * s2) : 1.0;
}

}  // namespace

int main(int argc, char** argv) {
  const int builds = argc > 1 ? std::atoi(argv[1]) : 1000;
  try {
    TempDir tmp("bb-bench-contention");
    MasterProcess master(tmp.sub("master"));
    const std::string v = makeVerifier("pw");
    std::ostringstream y;
    y << "master: {name: bench, slave_port: " << master.port() << ", database: \"sqlite:state.sqlite\"}\n"
      << "slaves:\n";
    for (int i = 1; i <= kSlaves; ++i)
      y << "  - {name: s" << i << ", password: \"" << v << "\", max_builds: " << kMaxBuilds << "}\n";
    y << "users: [{name: bench, password: \"" << v << "\", may: [force, status]}]\n"
      << "locks: [{name: pool, scope: master, max_count: " << kLockMax << "}]\n"
      << "builders:\n  - name: b\n    slaves: [";
    for (int i = 1; i <= kSlaves; ++i) y << (i > 1 ? ", " : "") << "s" << i;
    y << "]\n    locks: [{lock: pool, access: counting}]\n"
      << "    steps: [{shell: {name: s, command: \"date +%s%N; sleep 0.01; date +%s%N\"}}]\n"
      << "schedulers: [{name: force, type: force, builders: [b]}]\n";
    master.create();
    master.writeConfig(y.str());
    master.start();
    std::vector<std::unique_ptr<SlaveProcess>> procs;
    for (int i = 1; i <= kSlaves; ++i) {
      procs.push_back(std::make_unique<SlaveProcess>(tmp.sub("slave" + std::to_string(i)), master.port(),
                                                     "s" + std::to_string(i), "pw"));
      procs.back()->create();
      procs.back()->start();
    }
    for (int i = 1; i <= kSlaves; ++i)
      if (!master.waitForLog("slave s" + std::to_string(i) + " connected", 30s))
        throw std::runtime_error("slave did not connect:\n" + master.log());
    const pid_t pid = bench::readPid(master.dir() + "/buildmaster.pid");
    const double cpu0 = bench::cpuSeconds(pid);

    client::MasterClient c({"127.0.0.1", static_cast<std::uint16_t>(master.port())}, {"bench", "pw"},
                            bench::clientOptions(master));
    c.connect();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < builds; ++i) c.call("force", Json{{"scheduler", "force"}});
    const auto tSubmitted = std::chrono::steady_clock::now();
    const std::string countSql = "SELECT count(*) FROM builds WHERE finished=1";
    if (!waitFor([&] { return std::stoi(sqlite(master.dbPath(), countSql)[0][0]) >= builds; }, 600s, 5ms))
      throw std::runtime_error("builds did not finish");
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu = bench::cpuSeconds(pid) - cpu0;
    const double peak = bench::memoryMiB(pid);
    const auto results = sqlite(master.dbPath(), "SELECT result, count(*) FROM builds GROUP BY result");
    const auto reqRows = sqlite(master.dbPath(), "SELECT id, buildset_id FROM buildrequests");
    // How long each build waited for `pool` after it started (the master
    // records it as the build property lock_wait_seconds).
    const auto lockRows = sqlite(master.dbPath(),
                                 "SELECT number, coalesce(json_extract(properties, '$.lock_wait_seconds[0]'), 0)"
                                 " FROM builds WHERE builder='b'");
    // Each step prints its own start and end (ns, from date): the step runs
    // only while its build holds `pool`, so these intervals overlapping more
    // than 3 at once would be a lock violation.
    std::vector<std::pair<long long, int>> stepEvents;  // (ns, +1 start | -1 end)
    for (const auto& row : sqlite(master.dbPath(),
                                  "SELECT l.id FROM logs l JOIN steps s ON l.step_id=s.id JOIN builds b ON "
                                  "s.build_id=b.id WHERE b.builder='b'")) {
      const Json r = c.call("log", Json{{"log_id", std::stoll(row[0])}});
      std::istringstream text(r.value("text", std::string()));
      std::vector<long long> stamps;
      for (std::string l; std::getline(text, l);)
        if (l.size() >= 18 && l.find_first_not_of("0123456789") == std::string::npos) stamps.push_back(std::stoll(l));
      if (stamps.size() >= 2) {
        stepEvents.emplace_back(stamps.front(), +1);
        stepEvents.emplace_back(stamps.back(), -1);
      }
    }
    std::sort(stepEvents.begin(), stepEvents.end());
    int stepsNow = 0, maxSteps = 0;
    for (const auto& e : stepEvents) maxSteps = std::max(maxSteps, stepsNow += e.second);
    c.close();
    for (auto& s : procs) s->stop();
    master.stop();

    // The master's log, in its own order (one thread writes it): buildset
    // creation, build start and finish, and lock waits.
    std::map<long long, std::int64_t> buildsetAt;  // buildset id -> ms
    std::map<long long, std::int64_t> startAt;     // request id -> ms of its first build start
    std::map<long long, long long> requestOf;      // build number -> request id
    std::map<long long, std::int64_t> buildStart, buildEnd;  // build number -> ms
    int lockWaits = 0, started = 0, finished = 0;
    std::istringstream log(readFile(master.dir() + "/buildmaster.log"));
    std::string line;
    while (std::getline(log, line)) {
      const long long bs = numberAfter(line, "] scheduler force created buildset ");
      if (bs >= 0) {
        buildsetAt[bs] = bench::logLineMs(line);
        continue;
      }
      const long long num = numberAfter(line, "] build b #");
      if (num < 0) continue;
      if (line.find(" started on slave ") != std::string::npos) {
        ++started;
        const long long req = numberAfter(line, " for request ");
        if (req >= 0 && !startAt.count(req)) startAt[req] = bench::logLineMs(line);
        requestOf[num] = req;
        buildStart[num] = bench::logLineMs(line);
      } else if (line.find(" finished: ") != std::string::npos) {
        ++finished;
        buildEnd[num] = bench::logLineMs(line);
      } else if (line.find(" is waiting") != std::string::npos) {
        ++lockWaits;
      }
    }
    // A build holds `pool` from start + lock wait until it finishes (the
    // master releases its locks just before logging "finished"). Sweep
    // those intervals for the most holders at once; at equal milliseconds
    // a release counts before a grant.
    std::map<long long, long long> bsOfRequest;
    for (const auto& row : reqRows) bsOfRequest[std::stoll(row[0])] = std::stoll(row[1]);
    std::vector<std::pair<std::int64_t, int>> events;  // (ms, -1 release | +1 grant)
    std::vector<double> startWaits, grantWaits;
    for (const auto& row : lockRows) {
      const long long num = std::stoll(row[0]);
      const auto st = buildStart.find(num);
      const auto en = buildEnd.find(num);
      if (st == buildStart.end() || en == buildEnd.end()) continue;
      const auto grant = st->second + static_cast<std::int64_t>(std::stod(row[1]) * 1000.0 + 0.5);
      events.emplace_back(grant, +1);
      events.emplace_back(en->second, -1);
      const auto bs = bsOfRequest.find(requestOf[num]);
      if (bs == bsOfRequest.end()) continue;
      const auto created = buildsetAt.find(bs->second);
      if (created == buildsetAt.end()) continue;
      startWaits.push_back(static_cast<double>(st->second - created->second));
      grantWaits.push_back(static_cast<double>(grant - created->second));
    }
    std::sort(events.begin(), events.end());
    int holders = 0, maxRunning = 0;
    for (const auto& e : events) maxRunning = std::max(maxRunning, holders += e.second);
    const std::vector<double>& waits = grantWaits;

    const double secs = std::chrono::duration<double>(t1 - t0).count();
    const double submitSecs = std::chrono::duration<double>(tSubmitted - t0).count();
    std::printf("%-7s %-9s %-9s %-9s %-10s %-10s %-10s %-8s %-13s %-11s %-12s %-9s\n", "builds", "seconds",
                "builds/s", "submit s", "p50 ms", "p99 ms", "max ms", "Jain", "max steps", "lock waits",
                "CPU ms/build", "peak MiB");
    std::printf("%-7d %-9.2f %-9.1f %-9.2f %-10.0f %-10.0f %-10.0f %-8.3f %-13d %-11d %-12.3f %-9.1f\n", builds,
                secs, builds / secs, submitSecs, bench::percentile(waits, 50), bench::percentile(waits, 99),
                bench::percentile(waits, 100), jain(waits), maxSteps, lockWaits, cpu * 1000.0 / builds, peak);
    std::printf("most steps running at once (their own date stamps): %d of %zu steps timed; most holders "
                "estimated from the log (build start + lock_wait_seconds .. \"finished\" line): %d\n",
                maxSteps, stepEvents.size() / 2, maxRunning);
    std::printf("wait from buildset to build start (before the lock): p50 %.0f ms, p99 %.0f ms, Jain %.3f\n",
                bench::percentile(startWaits, 50), bench::percentile(startWaits, 99), jain(startWaits));
    std::printf("waits measured: %zu of %d; log: %d started, %d finished; results:", waits.size(), builds,
                started, finished);
    for (const auto& r : results) std::printf(" %s=%s", r[0].c_str(), r[1].c_str());
    std::printf("\n");
    if (maxSteps > kLockMax) {
      std::fprintf(stderr, "contention_bench: %d steps ran at once; the lock allows %d\n", maxSteps, kLockMax);
      return 1;
    }
    if (static_cast<int>(waits.size()) < builds)
      std::fprintf(stderr, "warning: only %zu of %d waits could be matched in the log\n", waits.size(), builds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "contention_bench failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
