// A database that cannot grow: the failure is a DbError of kind DiskFull
// whose message names the file, nothing committed is lost, and the
// Database works again once there is room.
//
// A small filesystem needs mount privileges, so two stand-ins are used:
// - SQLite's max_page_count, set on the Database's own connection by an
//   auto-extension (SQLite runs it for every connection this process
//   opens): past it SQLite fails exactly as on a full disk (SQLITE_FULL,
//   "database or disk is full", which is also what ENOSPC from write()
//   becomes);
// - the kernel's file size limit (RLIMIT_FSIZE, in a forked child): past it
//   write() fails with EFBIG, which SQLite reports as a plain I/O error.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <random>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

namespace fs = std::filesystem;

struct DiskFullTempDir {
  fs::path path;
  DiskFullTempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bb_db_full_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~DiskFullTempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string incompressible(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// The connection most recently opened in this process, and the page limit
// set on every new connection (0: none).
sqlite3* gLastConnection = nullptr;
int gMaxPages = 0;

int limitPages(sqlite3* db, char**, const sqlite3_api_routines*) {
  gLastConnection = db;
  if (gMaxPages > 0) {
    const std::string sql = "PRAGMA max_page_count=" + std::to_string(gMaxPages);
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  return SQLITE_OK;
}

class PageLimit {
 public:
  explicit PageLimit(int pages) {
    gMaxPages = pages;
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(limitPages));
  }
  ~PageLimit() {
    sqlite3_cancel_auto_extension(reinterpret_cast<void (*)()>(limitPages));
    gMaxPages = 0;
  }
};

TEST(DiskFull, AFullDatabaseIsKindDiskFullNamesTheFileAndLosesNothing) {
  DiskFullTempDir dir;
  const std::string file = (dir.path / "state.sqlite").string();
  PageLimit limit(256);  // 1 MiB of 4 KiB pages
  Database db(file);
  db.upgrade();
  const MasterId m = db.registerMaster("m", 1);
  BuildsetRecord bs;
  const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
  const auto build = db.addBuild(m, brid, "a", "s", 1, Json::object());
  const auto log = db.addLog(db.addStep(build.id, 1, "big", 1), "stdio");
  int appended = 0;
  std::optional<DbError> error;
  // 8 KiB chunks: small enough to be kept in the database, not in a log file.
  for (; appended < 400 && !error; ++appended) {
    try {
      db.appendLog(log, 0, incompressible(8 * 1024, static_cast<unsigned>(appended)));
    } catch (const DbError& e) {
      error = e;
      --appended;
    }
  }
  ASSERT_TRUE(error.has_value()) << "400 chunks of 8 KiB fit in 1 MiB";
  EXPECT_EQ(error->kind(), DbErrorKind::DiskFull) << error->what();
  EXPECT_STREQ(toString(error->kind()), "disk full");
  EXPECT_EQ(error->cause(), "database or disk is full");
  EXPECT_EQ(std::string(error->what()).rfind("database " + file + " is out of space (its disk is full, or it reached its size limit): ", 0), 0u)
      << error->what();
  // Nothing committed before is lost, and the failed chunk left nothing.
  EXPECT_EQ(db.transactionDepth(), 0);
  EXPECT_EQ(db.getLog(log)->chunks, appended);
  // Room again: the same Database writes on.
  ASSERT_EQ(sqlite3_exec(gLastConnection, "PRAGMA max_page_count=1000000", nullptr, nullptr, nullptr), SQLITE_OK);
  db.appendLog(log, 1, "room again");
  EXPECT_EQ(db.getLog(log)->chunks, appended + 1);
}

// What the child saw, sent back over a pipe as lines.
struct Outcome {
  std::string kind, message, after;
};

// In a child limited to `limit` bytes per file: fills a log with chunks of
// `chunk` bytes until a write fails (8 KiB chunks are kept in the database
// file, 64 KiB ones in the log's own file), then reports what the failure
// was, whether the data committed before it is intact, and whether writing
// (a small chunk and a big one) works once the limit is lifted.
Outcome fillInChild(const std::string& file, rlim_t limit, std::size_t chunk) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string report;
    try {
      signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing us
      Database db(file);
      db.upgrade();
      const MasterId m = db.registerMaster("m", 1);
      BuildsetRecord bs;
      const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
      const auto build = db.addBuild(m, brid, "a", "s", 1, Json::object());
      const auto log = db.addLog(db.addStep(build.id, 1, "big", 1), "stdio");
      struct rlimit rl{};
      getrlimit(RLIMIT_FSIZE, &rl);
      const rlimit saved = rl;
      rl.rlim_cur = limit;
      if (setrlimit(RLIMIT_FSIZE, &rl) != 0) throw std::runtime_error("setrlimit failed");
      int appended = 0;
      try {
        for (; appended < 1000; ++appended)
          db.appendLog(log, 0, incompressible(chunk, static_cast<unsigned>(appended)));
        report = "none\nno failure after 1000 chunks\n";
      } catch (const DbError& e) {
        std::string msg = e.what();
        for (auto& c : msg)
          if (c == '\n') c = ' ';
        report = std::string(toString(e.kind())) + "\n" + msg + "\n";
      }
      // What was committed before the failure is all there, and the
      // failed transaction left nothing half-done.
      std::string after = db.transactionDepth() == 0 ? "" : "transaction left open; ";
      if (db.getLog(log)->chunks != appended) after += "chunk count changed; ";
      setrlimit(RLIMIT_FSIZE, &saved);
      db.appendLog(log, 1, "room again");
      db.appendLog(log, 0, incompressible(64 * 1024, 99999));
      if (db.getLog(log)->chunks != appended + 2) after += "no write after the limit was lifted; ";
      std::string back;
      db.readLog(log, [&](int, std::string_view d) {
        back.append(d);
        return true;
      });
      std::string expected;
      for (int i = 0; i < appended; ++i) expected += incompressible(chunk, static_cast<unsigned>(i));
      expected += "room again" + incompressible(64 * 1024, 99999);
      if (back != expected) after += "the log does not read back as written; ";
      report += after.empty() ? "ok" : after;
    } catch (const std::exception& e) {
      report = "setup\n" + std::string(e.what()) + "\n";
    }
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  Outcome o;
  const auto a = all.find('\n'), b = all.find('\n', a + 1);
  o.kind = all.substr(0, a);
  if (a != std::string::npos) o.message = all.substr(a + 1, b == std::string::npos ? b : b - a - 1);
  if (b != std::string::npos) o.after = all.substr(b + 1);
  return o;
}

TEST(DiskFull, AWriteTheSystemRefusesNamesTheFileAndLosesNothing) {
  DiskFullTempDir dir;
  const std::string file = (dir.path / "state.sqlite").string();
  const Outcome o = fillInChild(file, 2 * 1024 * 1024, 8 * 1024);
  // EFBIG is not ENOSPC: SQLite reports an I/O error, not a full disk.
  EXPECT_EQ(o.kind, "other") << o.message;
  EXPECT_EQ(o.message.rfind("database " + file + ": ", 0), 0u) << o.message;
  EXPECT_NE(o.message.find("disk I/O error"), std::string::npos) << o.message;
  EXPECT_EQ(o.after, "ok");
}

// Big chunks go to the log's own file (master/db/log_files.hpp): a write
// the system refuses there is a full disk too, names that file, and loses
// nothing stored before.
TEST(DiskFull, ALogFileTheSystemRefusesIsDiskFullNamesTheFileAndLosesNothing) {
  DiskFullTempDir dir;
  const std::string file = (dir.path / "state.sqlite").string();
  const Outcome o = fillInChild(file, 2 * 1024 * 1024, 64 * 1024);
  EXPECT_EQ(o.kind, "disk full") << o.message;
  EXPECT_EQ(o.message.rfind("log file " + file + ".logs/", 0), 0u) << o.message;
  EXPECT_NE(o.message.find(" is out of space (its disk is full, or it reached its size limit): cannot write"),
            std::string::npos)
      << o.message;
  EXPECT_NE(o.message.find("File too large"), std::string::npos) << o.message;
  EXPECT_EQ(o.after, "ok");
}

}  // namespace
}  // namespace bb::db
