// Scheduler routing through a real buildmaster: the change mix and the 20
// schedulers of scheduler_bench, sent as `sendchange` requests over one
// client connection (each waits for its answer, so each is accepted and
// committed with every scheduler's decision before the next). No slave is
// connected: BuildSets queue up, nothing builds. Tree-stable timers run in
// real time, so most have not fired by the end; scheduler_bench (ManualClock)
// covers the timers. Figures: changes/s, round-trip latency per change, and
// the master's CPU and peak RSS (/proc).
//
//   scheduler_master_bench [CHANGES] [TIME_LIMIT_SECONDS]   (100000, 900)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/scheduler_mix.hpp"
#include "client/master_client.hpp"
#include "tests/functional/harness.hpp"

using namespace bb;
using namespace bb::test;

int main(int argc, char** argv) {
  const long changes = argc > 1 ? std::atol(argv[1]) : 100'000;
  const long limitSeconds = argc > 2 ? std::atol(argv[2]) : 900;
  if (changes <= 0 || limitSeconds <= 0) {
    std::fprintf(stderr, "usage: scheduler_master_bench [CHANGES > 0] [TIME_LIMIT_SECONDS > 0]\n");
    return 2;
  }
  try {
    TempDir tmp("bb-bench-sched-master");
    MasterProcess master(tmp.sub("master"));
    const std::string v = makeVerifier("pw");
    master.create();
    master.writeConfig(
        "master: {name: bench, slave_port: " + std::to_string(master.port()) + "}\n"
        "slaves: [{ name: s1, password: \"" + v + "\" }]\n"
        "users: [{name: bench, password: \"" + v + "\", may: [sendchange, status]}]\n"
        "builders:\n"
        "  - { name: b1, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
        "  - { name: b2, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
        "  - { name: b3, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
        "schedulers:" + std::string(bench::kSchedulers));
    master.start();
    const pid_t pid = bench::readPid(master.dir() + "/buildmaster.pid");
    const double rss0 = bench::memoryMiB(pid, "VmRSS:");
    const double cpu0 = bench::cpuSeconds(pid);

    client::MasterClient c({"127.0.0.1", static_cast<std::uint16_t>(master.port())}, {"bench", "pw"},
                            bench::clientOptions(master));
    c.connect();
    bench::ChangeMaker maker;
    std::vector<double> latencyUs;
    latencyUs.reserve(static_cast<std::size_t>(changes));
    const auto t0 = std::chrono::steady_clock::now();
    const auto deadline = t0 + std::chrono::seconds(limitSeconds);
    long sent = 0;
    for (; sent < changes && std::chrono::steady_clock::now() < deadline; ++sent) {
      const db::ChangeRecord ch = maker.next();
      const Json params{{"author", ch.author},     {"comments", ch.comments},
                        {"branch", ch.branch},     {"revision", ch.revision},
                        {"repository", ch.repository}, {"project", ch.project},
                        {"category", ch.category}, {"files", ch.files}};
      const auto s = std::chrono::steady_clock::now();
      c.call("sendchange", params);
      latencyUs.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - s).count());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = bench::cpuSeconds(pid) - cpu0;
    const double peak = bench::memoryMiB(pid);
    const double rss = bench::memoryMiB(pid, "VmRSS:");
    c.close();
    const auto decisions = sqlite(master.dbPath(), "SELECT count(*) FROM change_decisions")[0][0];
    const auto buildsets = sqlite(master.dbPath(), "SELECT count(*) FROM buildsets")[0][0];
    master.stop();

    std::printf("changes:            %ld of %ld%s\n", sent, changes, sent < changes ? " (time limit)" : "");
    std::printf("wall time:          %.2f s\n", seconds);
    std::printf("changes/s:          %.0f\n", static_cast<double>(sent) / seconds);
    std::printf("decisions stored:   %s\n", decisions.c_str());
    std::printf("buildsets:          %s (timer ones fire in real time: most are still pending)\n",
                buildsets.c_str());
    std::printf("round trip:         p50 %.0f us, p99 %.0f us, max %.0f us\n",
                bench::percentile(latencyUs, 50), bench::percentile(latencyUs, 99),
                bench::percentile(latencyUs, 100));
    std::printf("master CPU:         %.1f s (%.0f us per change)\n", cpu,
                cpu * 1e6 / static_cast<double>(sent));
    std::printf("master RSS:         %.1f MiB at start, %.1f MiB at end, peak %.1f MiB\n", rss0, rss,
                peak);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scheduler_master_bench: %s\n", e.what());
    return 1;
  }
}
