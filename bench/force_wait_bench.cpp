// `buildbot force --wait` of a no-op build on an idle master, timed as a
// user runs it: the client process starts, connects, logs in (SCRAM),
// forces, follows the build by events and prints the result. Reports
// p50/p90/max wall time over N runs (default 30). With `status`, times
// `buildbot status` instead (client start, connection, login, one answer),
// to tell the client's part from the build's.
// Usage: force_wait_bench [RUNS] [status]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <stdexcept>
#include <vector>

#include "tests/functional/harness.hpp"

using namespace bb::test;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 30;
  const bool statusOnly = argc > 2 && std::string(argv[2]) == "status";
  if (runs < 1 || runs > 10000 || (argc > 2 && !statusOnly)) {
    std::fprintf(stderr, "usage: force_wait_bench [RUNS 1..10000] [status]\n");
    return 2;
  }
  TempDir tmp("bb-bench-forcewait");
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  master.writeConfig("master: {name: bench, slave_port: " + std::to_string(master.port()) +
                     ", database: \"sqlite:state.sqlite\"}\n"
                     "slaves: [{name: s1, password: \"" + v + "\"}]\n"
                     "users: [{name: bench, password: \"" + v + "\", may: [force, status]}]\n"
                     "builders:\n  - name: noop\n    slaves: [s1]\n"
                     "    steps: [{shell: {name: noop, command: [\"true\"]}}]\n"
                     "schedulers: [{name: force, type: force, builders: [noop]}]\n");
  master.setAuth("bench", "pw");
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "pw");
  slave.create();
  slave.start();
  if (!master.waitForLog("slave s1 connected", 30s)) {
    std::fprintf(stderr, "slave did not connect:\n%s\n", master.log().c_str());
    return 1;
  }
  // As a user runs it: the master's fingerprint is pinned once (in
  // ~/.buildbot/options or BUILDBOT_MASTER_FINGERPRINT), not looked up for
  // each run as MasterProcess::client() does (with `buildmaster
  // fingerprint DIR`, a process of its own: ~40 ms that were counted here
  // from 2026-12-02 on).
  std::vector<std::string> command = {BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master.port()),
                                      "--master-fingerprint", master.fingerprint()};
  if (statusOnly) command.push_back("status");
  else command.insert(command.end(), {"force", "--scheduler", "force", "--wait"});
  const std::map<std::string, std::string> env = {
      {"HOME", master.dir()}, {"BUILDBOT_MASTER", ""}, {"BUILDBOT_AUTH", "bench:pw"}};
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const CmdResult r = run(command, "", env, 60s);
    const double took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (r.rc != 0) {
      std::fprintf(stderr, "%s failed:\n%s\n", statusOnly ? "status" : "force --wait", r.describe().c_str());
      return 1;
    }
    ms.push_back(took);
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * ms.size()))]; };
  std::printf("%s, %d runs: p50 %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms\n",
              statusOnly ? "status" : "force --wait of a no-op build", runs, pct(0.5), pct(0.9), ms.front(), ms.back());
  return 0;
}
