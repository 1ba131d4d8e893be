// The build statistics queries (master/db/stats_db.cpp) on a database of
// N finished builds (default 1,000,000) over 20 builders and 52 weeks,
// each build with two steps ("compile", "test"), filled through the
// database layer as bench/web_bench.cpp does. Times, each the median of
// 3 runs: weeklyStats for all builders / one builder over the last 12
// weeks (the default of `buildbot stats`) and over all 52, with and
// without the per-step figures; recentDurationP50 (a running build's
// time left) for every builder; then the cleanup of the older half
// (summarised, then deleted) and the 52-week queries again over raw rows
// plus summaries. Prints one line per figure (docs/performance.md).
// Run: stats_bench [N] [DIR]   (DIR: where the database goes, default /tmp)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "master/db/database.hpp"

namespace {

namespace fs = std::filesystem;
using namespace bb;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median3(const std::function<void()>& fn) {
  std::vector<double> t;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    fn();
    t.push_back(since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[1];
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  std::string tmpl = ((argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path()) / "bb_stats_bench_XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = tmpl;
  const std::string path = (dir / "state.sqlite").string();
  constexpr int kBuilders = 20;
  const std::int64_t now = std::time(nullptr);
  const std::int64_t start = now - 364 * 86400;
  const double step = 364.0 * 86400 / static_cast<double>(n);
  {
    db::Database d(path);
    d.upgrade();
    const auto master = d.registerMaster("bench", start);
    const auto t0 = Clock::now();
    for (long i = 0; i < n;) {
      d.transaction([&] {
        for (int k = 0; k < 2000 && i < n; ++k, ++i) {
          const std::string builder = "builder" + std::to_string(i % kBuilders);
          const std::int64_t at = start + static_cast<std::int64_t>(static_cast<double>(i) * step);
          const std::int64_t queue = (i * 31) % 300;
          const std::int64_t dur = 60 + (i * 7919) % 600;
          db::BuildsetRecord bs;
          bs.reason = "bench";
          bs.scheduler = "bench";
          bs.submittedAt = at - queue;
          const auto brid = d.addBuildset(bs, {builder}, 0).second.at(builder);
          d.claimRequest(brid, master, at);
          const auto b = d.addBuild(master, brid, builder, "s" + std::to_string(i % 5), at, db::Json::object());
          const Result r = i % 9 == 0 ? Result::Failure : Result::Success;
          const auto compile = d.addStep(b.id, 1, "compile", at);
          d.finishStep(compile, Result::Success, "", at + dur / 2);
          const auto test = d.addStep(b.id, 2, "test", at + dur / 2);
          d.finishStep(test, r, "", at + dur);
          if (i % 4 == 0) {
            d.setStepLockWait(test, (i * 13) % 5000);
            d.setBuildLockWait(b.id, (i * 13) % 5000);
          }
          d.finishBuild(b.id, r, "", at + dur);
          d.completeRequest(brid, r, at + dur);
        }
      });
    }
    std::printf("filled %ld builds (%d builders, 2 steps each, 52 weeks) in %.1f s; file %.0f MB\n", n,
                kBuilders, since(t0), static_cast<double>(fs::file_size(path)) / 1e6);
  }
  db::Database d(path, db::OpenMode::MustExist);
  const std::int64_t weeks12 = now - 12 * 7 * 86400;
  std::size_t rows = 0;
  auto query = [&](const char* what, db::StatsFilter f) {
    const double s = median3([&] { rows = d.weeklyStats(f).size(); });
    std::printf("%-58s %8.3f s  (%zu rows)\n", what, s, rows);
  };
  query("weeklyStats all builders, 12 weeks, with steps", {"", weeks12, true});
  query("weeklyStats all builders, 12 weeks, builds only", {"", weeks12, false});
  query("weeklyStats one builder, 12 weeks, with steps", {"builder3", weeks12, true});
  query("weeklyStats all builders, 52 weeks, with steps", {"", 0, true});
  query("weeklyStats one builder, 52 weeks, with steps", {"builder3", 0, true});
  const double eta = median3([&] {
    for (int b = 0; b < kBuilders; ++b) d.recentDurationP50("builder" + std::to_string(b));
  });
  std::printf("%-58s %8.3f s  (%.2f ms each)\n", "recentDurationP50 for each of 20 builders", eta,
              eta * 1000 / kBuilders);
  const auto t0 = Clock::now();
  const auto c = d.deleteHistoryBefore(start + 182 * 86400);
  std::printf("%-58s %8.3f s  (%lld builds)\n", "cleanup of the older 26 weeks (summarise + delete)", since(t0),
              static_cast<long long>(c.builds));
  query("weeklyStats all builders, 52 weeks, half summarised", {"", 0, true});
  query("weeklyStats one builder, 52 weeks, half summarised", {"builder3", 0, true});
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
