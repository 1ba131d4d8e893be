// buildmaster cleanupdb DIR --older-than DAYS: deletes old builds, logs and
// buildsets (master/db/cleanup_db.cpp) and compacts the database.
#include <ctime>
#include <filesystem>
#include <iostream>

#include "common/daemon.hpp"
#include "master/admin/admin.hpp"
#include "master/artifacts/artifact_store.hpp"
#include "master/buildmaster.hpp"
#include "master/db/database.hpp"

namespace bb::admin {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// The database file and its WAL, in bytes.
std::uintmax_t diskBytes(const std::string& dbPath) {
  std::uintmax_t total = 0;
  for (const auto& p : {dbPath, dbPath + "-wal"}) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    if (!ec) total += n;
  }
  return total;
}

std::string megabytes(std::uintmax_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

std::string utcTime(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

int cleanupdbVerb(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("older-than", po::value<double>()->value_name("DAYS"),
                  "delete builds (with their steps and logs) and buildsets that finished more "
                  "than DAYS days ago (required; fractions allowed)")(
      "no-compact", po::bool_switch(), "do not rewrite the database file afterwards");
  const char* synopsis = "cleanupdb DIR --older-than DAYS [--no-compact]";
  auto p = parseMasterVerb("cleanupdb", synopsis, o, args, {dirArg()});
  if (!p) return 2;
  if (p->help) return 0;
  if (!p->vm.count("older-than")) {
    std::cerr << "buildmaster cleanupdb: --older-than DAYS is required (usage: buildmaster "
              << synopsis << ")\n";
    return 2;
  }
  const double days = p->vm["older-than"].as<double>();
  if (!(days >= 0) || days > 100000) {
    std::cerr << "buildmaster cleanupdb: --older-than must be 0-100000 days, got " << days << "\n";
    return 2;
  }
  const std::string dir = p->vm["dir"].as<std::string>();
  std::string url = "sqlite:state.sqlite";
  MasterSection section;
  const std::string cfgPath = configPathFor(dir);
  std::error_code ec;
  if (fs::exists(cfgPath, ec)) {
    auto cfg = loadChecked(cfgPath);
    if (!cfg) return 1;
    url = cfg->master.database;
    section = cfg->master;
  }
  const bool running = pidFileLocked(pidPathFor(dir));
  const bool compact = !p->vm["no-compact"].as<bool>() && !running;
  try {
    const std::string dbPath = databasePath(dir, url);
    useDatabasePassword(dir, section);
    const bool server = db::isServerDatabase(dbPath);
    if (!server && !fs::exists(dbPath, ec)) {
      std::cerr << "buildmaster cleanupdb: no database at " << dbPath
                << " (is " << dir << " a master directory?)\n";
      return 1;
    }
    db::Database db(dbPath);
    db.requireCurrentSchema();
    const std::int64_t horizon =
        static_cast<std::int64_t>(std::time(nullptr)) - static_cast<std::int64_t>(days * 86400);
    const auto sizeBefore = diskBytes(dbPath);
    const db::CleanupCounts c = db.deleteHistoryBefore(horizon);
    std::cout << "deleted " << c.builds << " build(s) finished before " << utcTime(horizon)
              << " with " << c.steps << " step(s) and " << c.logs << " log(s) ("
              << megabytes(static_cast<std::uintmax_t>(c.logBytes)) << " of log text), and "
              << c.buildsets << " buildset(s)\n";
    const OrphanedArtifacts gone = removeOrphanedArtifacts(dir, db);
    if (gone.dirs > 0)
      std::cout << "removed the artifacts of " << gone.dirs << " deleted build(s) (" << megabytes(gone.bytes)
                << ")\n";
    if (compact) {
      db.compact();
      // A server's files are not ours to measure: VACUUM makes the space
      // reusable rather than shrinking them.
      if (server) std::cout << "compacted the database (VACUUM)\n";
      else
        std::cout << "compacted the database: " << megabytes(sizeBefore) << " -> "
                  << megabytes(diskBytes(dbPath)) << "\n";
    } else if (running) {
      std::cout << "not compacted: the master is running (new builds reuse the freed space; "
                   "run cleanupdb with the master stopped to shrink the file)\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "buildmaster cleanupdb: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace bb::admin
