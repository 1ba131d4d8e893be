// scheduler_bench: N changes (default 100000) routed through 20 schedulers
// with change filters and timers, in one process, through the master's own
// parts: the YAML config loader, ChangeBus, SchedulerSet, BuildsetService
// and a file Database (WAL, in a temporary directory), as the master uses
// them. Time is a ManualClock advanced between changes so tree-stable
// timers and nightly schedules fire. No network, no slaves: it measures
// classification, decisions, state and BuildSet writes.
//
// Usage: scheduler_bench [CHANGES] [TIME_LIMIT_SECONDS]
// Prints changes/s, decisions/s, per-change latency percentiles, BuildSets
// created (per scheduler), decisions by kind, and peak RSS.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench/bench_util.hpp"
#include "bench/scheduler_mix.hpp"
#include "common/daemon.hpp"
#include "common/event_loop.hpp"
#include "config/master_config.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/changes/change_bus.hpp"
#include "master/config_kinds.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/schedulers/scheduler_set.hpp"

namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

using bb::bench::ChangeMaker;
using bb::bench::kSchedulers;
using bb::bench::kVerifier;

std::string configYaml() {
  return "slaves: [{ name: s1, password: \"" + kVerifier + "\" }]\n"
         "builders:\n"
         "  - { name: b1, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "  - { name: b2, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "  - { name: b3, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "schedulers:" + std::string(kSchedulers);
}

long peakRssKiB() {
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) {
    std::perror("getrusage");
    return -1;
  }
  return ru.ru_maxrss;  // KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  const long changes = argc > 1 ? std::atol(argv[1]) : 100'000;
  const long limitSeconds = argc > 2 ? std::atol(argv[2]) : 900;
  if (changes <= 0 || limitSeconds <= 0) {
    std::fprintf(stderr, "usage: scheduler_bench [CHANGES > 0] [TIME_LIMIT_SECONDS > 0]\n");
    return 2;
  }
  bb::keepFreedHeap();  // as buildmaster's main() does
  spdlog::set_level(spdlog::level::warn);  // the master logs one line per change; not measured here

  char tmpl[] = "/tmp/bb-sched-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  int rc = 0;
  try {
    auto cfg = bb::parseMasterConfig(configYaml(), "scheduler_bench.yaml", bb::masterConfigKinds());
    if (!cfg.ok()) {
      for (const auto& e : cfg.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
      throw std::runtime_error("the bench's own config does not load");
    }
    bb::db::Database db(dir + "/state.sqlite");
    db.upgrade();
    bb::ManualClock clock;
    clock.setWall(bb::WallTime(sys_days(year(2024) / 1 / 10)));
    const auto simStart = clock.now();
    std::uint64_t wakes = 0;
    // The master posts event deliveries to its loop; here they run right
    // after each change, inside the timed part.
    std::deque<std::function<void()>> posted;
    auto runPosted = [&] {
      while (!posted.empty()) {
        auto fn = std::move(posted.front());
        posted.pop_front();
        fn();
      }
    };
    bb::EventBus events(clock, [&](std::function<void()> fn) { posted.push_back(std::move(fn)); },
                        [&](std::function<void()> fn) { db.afterCommit(std::move(fn)); });
    bb::Subscriber distributor;  // what wakes the distributor in the master
    distributor.name = "distributor";
    distributor.filter.types = {bb::EventType::RequestCreated};
    distributor.deliver = [&](const bb::Event&) {
      ++wakes;
      return true;
    };
    events.subscribe(std::move(distributor));
    bb::BuildsetService buildsets(db, events);
    bb::ChangeBus bus(db, events);
    bb::SchedulerSet set({db, clock, buildsets, "", nullptr}, bus);
    set.configure(cfg.config->schedulers);

    ChangeMaker maker;
    std::vector<double> latencyUs;
    latencyUs.reserve(static_cast<std::size_t>(changes));
    const auto deadline = steady_clock::now() + seconds(limitSeconds);
    const auto t0 = steady_clock::now();
    long done = 0;
    for (; done < changes && steady_clock::now() < deadline; ++done) {
      const auto a = steady_clock::now();
      bus.addChange(maker.next());
      runPosted();
      latencyUs.push_back(duration<double, std::micro>(steady_clock::now() - a).count());
      // Changes 2 s apart, with a 10-minute quiet spell every 500 changes so
      // that tree-stable timers fire; nightly schedules fire on the way.
      clock.advance((done + 1) % 500 == 0 ? 600'000ms : 2'000ms);
      runPosted();
    }
    clock.advance(3600s);  // let the last timers fire
    runPosted();
    const double wall = duration<double>(steady_clock::now() - t0).count();

    // Counted after the timed part: every BuildSet, and every decision.
    std::map<std::string, long> perScheduler;
    long bsCount = 0;
    for (std::int64_t id = 1;; ++id) {
      auto bs = db.getBuildset(id);
      if (!bs) break;
      ++bsCount;
      ++perScheduler[bs->scheduler];
    }
    std::map<std::string, long> kinds;
    long decisions = 0;
    for (std::int64_t id = 1; id <= done; ++id)
      for (const auto& d : db.decisionsForChange(id)) {
        ++kinds[d.decision];
        ++decisions;
      }

    std::printf("changes:            %ld of %ld%s\n", done, changes,
                done < changes ? " (stopped at the time limit)" : "");
    std::printf("schedulers:         %zu (all listen to changes)\n", set.all().size());
    std::printf("wall time:          %.2f s (simulated %.1f h)\n", wall,
                duration<double, std::ratio<3600>>(clock.now() - simStart).count());
    std::printf("changes/s:          %.0f\n", done / wall);
    std::printf("decisions:          %ld (%.0f/s):", decisions, decisions / wall);
    for (const auto& [k, n] : kinds) std::printf(" %s %ld", k.c_str(), n);
    std::printf("\n");
    std::printf("per change:         p50 %.0f us, p99 %.0f us, max %.0f us\n",
                bb::bench::percentile(latencyUs, 50), bb::bench::percentile(latencyUs, 99),
                bb::bench::percentile(latencyUs, 100));
    std::printf("buildsets:          %ld (distributor wakes %llu)\n", bsCount,
                static_cast<unsigned long long>(wakes));
    for (const auto& [name, n] : perScheduler) std::printf("  %-20s %ld\n", name.c_str(), n);
    std::printf("peak RSS:           %.1f MiB\n", peakRssKiB() / 1024.0);
    std::error_code ec;
    std::printf("database size:      %.1f MiB\n",
                static_cast<double>(std::filesystem::file_size(dir + "/state.sqlite", ec)) / 1048576.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scheduler_bench: %s\n", e.what());
    rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) std::fprintf(stderr, "could not remove %s: %s\n", dir.c_str(), ec.message().c_str());
  return rc;
}
