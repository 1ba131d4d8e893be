// The database cost of one build, on a WAL file database with
// synchronous=NORMAL, as the master runs it:
//   addBuildset + claim + addBuild + addStep + addLog + appendLog + finishLog
//   + finishStep + finishBuild + completeRequest
// BM_BuildCycleOneTransaction wraps the cycle in one outer transaction;
// BM_BuildCycleAutocommit commits every call on its own (the master commits
// per event). Run: db_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "master/db/database.hpp"

namespace {

namespace fs = std::filesystem;
using bb::db::Database;
using bb::db::Json;
using bb::db::Result;

class TempDb {
 public:
  // inMemory: ":memory:" instead of a file, to separate SQL cost from I/O.
  explicit TempDb(bool inMemory = false) {
    if (inMemory) {
      db_ = std::make_unique<Database>(":memory:");
      db_->upgrade();
      master_ = db_->registerMaster("bench", 1);
      return;
    }
    std::string tmpl = (fs::temp_directory_path() / "bb_db_bench_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    db_ = std::make_unique<Database>((dir_ / "state.sqlite").string());
    db_->upgrade();
    master_ = db_->registerMaster("bench", 1);
  }
  ~TempDb() {
    db_.reset();
    if (dir_.empty()) return;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Database& db() { return *db_; }
  bb::db::MasterId master() const { return master_; }

 private:
  fs::path dir_;
  std::unique_ptr<Database> db_;
  bb::db::MasterId master_;
};

// 4 KiB of typical compiler output per build: one appendLog chunk.
std::string sampleOutput() {
  std::string out;
  for (int i = 0; out.size() < 4096; ++i) {
    out += "g++ -O2 -Wall -c src/module" + std::to_string(i) + ".cpp -o obj/module" +
           std::to_string(i) + ".o\n";
  }
  out.resize(4096);
  return out;
}

void buildCycle(Database& db, bb::db::MasterId master, const std::string& output,
                std::int64_t now) {
  bb::db::BuildsetRecord bs;
  bs.reason = "bench";
  bs.scheduler = "quick";
  bs.sourcestamp = {"/srv/git/app.git", "main", "abc123", "app", {}, nullptr};
  bs.submittedAt = now;
  const auto [bsid, reqs] = db.addBuildset(bs, {"linux"}, 0);
  const std::int64_t brid = reqs.begin()->second;
  if (!db.claimRequest(brid, master, now)) throw std::runtime_error("claim failed");
  const auto build = db.addBuild(master, brid, "linux", "slave-1", now, Json{{"branch", "main"}});
  const std::int64_t step = db.addStep(build.id, 1, "compile", now);
  const std::int64_t log = db.addLog(step, "stdio");
  db.appendLog(log, 0, output);
  db.finishLog(log);
  db.finishStep(step, Result::Success, "compile", now);
  db.finishBuild(build.id, Result::Success, "build successful", now);
  if (!db.completeRequest(brid, Result::Success, now)) throw std::runtime_error("no completion");
}

void BM_BuildCycleOneTransaction(benchmark::State& state) {
  TempDb temp;
  const std::string output = sampleOutput();
  std::int64_t now = 1700000000;
  for (auto _ : state) {
    temp.db().transaction([&] { buildCycle(temp.db(), temp.master(), output, ++now); });
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildCycleOneTransaction)->Unit(benchmark::kMicrosecond);

void BM_BuildCycleInMemory(benchmark::State& state) {
  TempDb temp(/*inMemory=*/true);
  const std::string output = sampleOutput();
  std::int64_t now = 1700000000;
  for (auto _ : state) {
    temp.db().transaction([&] { buildCycle(temp.db(), temp.master(), output, ++now); });
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildCycleInMemory)->Unit(benchmark::kMicrosecond);

void BM_BuildCycleAutocommit(benchmark::State& state) {
  TempDb temp;
  const std::string output = sampleOutput();
  std::int64_t now = 1700000000;
  for (auto _ : state) buildCycle(temp.db(), temp.master(), output, ++now);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildCycleAutocommit)->Unit(benchmark::kMicrosecond);

// The distributor's query with `range(0)` pending requests queued.
void BM_PendingRequests(benchmark::State& state) {
  TempDb temp;
  Database& db = temp.db();
  db.transaction([&] {
    for (int i = 0; i < state.range(0); ++i) {
      bb::db::BuildsetRecord bs;
      bs.submittedAt = i;
      db.addBuildset(bs, {"b" + std::to_string(i % 10)}, i % 3);
    }
  });
  for (auto _ : state) benchmark::DoNotOptimize(db.pendingRequests());
}
BENCHMARK(BM_PendingRequests)->Arg(10)->Arg(1000)->Unit(benchmark::kMicrosecond);

// One 64 KiB chunk: compression plus the chunk row.
void BM_AppendLog64K(benchmark::State& state) {
  TempDb temp;
  Database& db = temp.db();
  bb::db::BuildsetRecord bs;
  const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
  const auto build = db.addBuild(temp.master(), brid, "a", "s", 1, Json::object());
  const auto log = db.addLog(db.addStep(build.id, 1, "x", 1), "stdio");
  std::string chunk;
  while (chunk.size() < 64 * 1024) chunk += sampleOutput();
  chunk.resize(64 * 1024);
  for (auto _ : state) db.appendLog(log, 0, chunk);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(chunk.size()));
}
BENCHMARK(BM_AppendLog64K)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
