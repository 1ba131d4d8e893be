// `buildmaster cleanupdb` on a database with N old builds (default
// 100,000) and 1,000 recent ones, over 10 builders. Each build has two
// steps with a 4 KiB stdio log each (one zstd chunk), like a small CI
// build. The database is filled in-process, then the real command runs:
//   buildmaster cleanupdb DIR --older-than 30
// with the master stopped (delete + VACUUM; with --no-compact, the delete
// alone). Prints the fill time, the command's wall time and output, and
// the file sizes.
// Run: cleanup_bench [N [--no-compact]]
#include <sys/time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "master/db/database.hpp"
#include "tests/functional/harness.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string sampleOutput(int build) {
  std::string out;
  for (int i = 0; out.size() < 4096; ++i)
    out += "g++ -O2 -c src/m" + std::to_string(build % 97) + "_" + std::to_string(i) + ".cpp\n";
  out.resize(4096);
  return out;
}

double mb(const std::string& path) {
  std::error_code ec;
  double total = 0;
  for (const auto& p : {path, path + "-wal"}) {
    const auto n = fs::file_size(p, ec);
    if (!ec) total += static_cast<double>(n);
  }
  return total / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const int oldBuilds = argc > 1 ? std::stoi(argv[1]) : 100000;
  const int newBuilds = 1000;
  bb::test::TempDir tmp("bb-cleanup-bench");
  const std::string dir = tmp.sub("master");
  auto created = bb::test::run({BB_BIN_MASTER, "create-master", dir});
  if (created.rc != 0) {
    std::fprintf(stderr, "%s\n", created.describe().c_str());
    return 1;
  }
  const std::string dbPath = dir + "/state.sqlite";
  const std::int64_t now = std::time(nullptr);
  const auto fillStart = Clock::now();
  {
    bb::db::Database db(dbPath);
    const auto master = db.registerMaster("bench", now);
    const int total = oldBuilds + newBuilds;
    for (int i = 0; i < total;) {
      db.transaction([&] {
        for (int k = 0; k < 1000 && i < total; ++k, ++i) {
          const std::int64_t at = i < oldBuilds ? now - 100 * 86400 + i : now - 3600 + i;
          const std::string builder = "builder" + std::to_string(i % 10);
          bb::db::BuildsetRecord bs;
          bs.submittedAt = at;
          const auto brid = db.addBuildset(bs, {builder}, 0).second.at(builder);
          db.claimRequest(brid, master, at);
          const auto b = db.addBuild(master, brid, builder, "slave1", at, bb::Json::object());
          for (int s = 1; s <= 2; ++s) {
            const auto step = db.addStep(b.id, s, s == 1 ? "git" : "test", at);
            const auto log = db.addLog(step, "stdio");
            db.appendLog(log, 0, sampleOutput(i));
            db.finishLog(log);
            db.finishStep(step, bb::Result::Success, "exit code 0", at + 1);
          }
          db.finishBuild(b.id, bb::Result::Success, "build successful", at + 2);
          db.completeRequest(brid, bb::Result::Success, at + 2);
        }
      });
    }
  }
  std::printf("filled %d old + %d recent builds in %.1f s; database %.1f MB\n", oldBuilds,
              newBuilds, seconds(fillStart), mb(dbPath));
  const auto start = Clock::now();
  std::vector<std::string> argvCmd{BB_BIN_MASTER, "cleanupdb", dir, "--older-than", "30"};
  const bool noCompact = argc > 2 && std::string(argv[2]) == "--no-compact";
  if (noCompact) argvCmd.push_back("--no-compact");
  auto r = bb::test::run(argvCmd, "", {}, std::chrono::seconds(3600));
  const double took = seconds(start);
  std::printf("$ buildmaster cleanupdb DIR --older-than 30%s   (rc %d, %.2f s wall)\n%s%s",
              noCompact ? " --no-compact" : "", r.rc, took, r.out.c_str(), r.err.c_str());
  std::printf("database after: %.1f MB; %.1f us per deleted build\n", mb(dbPath),
              took * 1e6 / std::max(oldBuilds, 1));
  return r.rc;
}
