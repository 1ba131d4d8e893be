// The SQLite engine: the only file that includes sqlite3.h. One connection
// in WAL mode, statements prepared persistently, every result code checked
// and turned into a DbError of the right kind that names the file.
#include <sqlite3.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "master/db/engine.hpp"

namespace bb::db {

namespace {

constexpr int kBusyTimeoutMs = 5000;

DbErrorKind kindOf(sqlite3* db, int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return DbErrorKind::DiskFull;
    case SQLITE_IOERR: {
      // A write the operating system refused for want of space (ENOSPC),
      // quota (EDQUOT) or file size limit (EFBIG) is a full disk too.
      const int err = db ? sqlite3_system_errno(db) : 0;
      return err == ENOSPC || err == EDQUOT || err == EFBIG ? DbErrorKind::DiskFull
                                                             : DbErrorKind::Other;
    }
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return DbErrorKind::Busy;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DbErrorKind::Corrupt;
    case SQLITE_CONSTRAINT:
      return DbErrorKind::Constraint;
    default:
      return DbErrorKind::Other;
  }
}

// What the operator reads first: which file, and what kind of trouble.
std::string headline(DbErrorKind kind, const std::string& path) {
  switch (kind) {
    case DbErrorKind::DiskFull:
      return "database " + path +
             " is out of space (its disk is full, or it reached its size limit): ";
    case DbErrorKind::Corrupt:
      return "database " + path + " is damaged: ";
    case DbErrorKind::Busy:
      return "database " + path + " is locked by another process: ";
    default:
      return "database " + path + ": ";
  }
}

// The connection's message is the most specific one, but only when it
// belongs to this failure (extended code matches); else the code's text.
// An I/O error also says what the operating system said.
std::string causeOf(sqlite3* db, int rc) {
  std::string cause;
  if (db && (sqlite3_errcode(db) == (rc & 0xff) || sqlite3_extended_errcode(db) == rc))
    cause = sqlite3_errmsg(db);
  if (cause.empty()) cause = sqlite3_errstr(rc);
  if (db && (rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db) != 0)
    cause += std::string(" (") + std::strerror(sqlite3_system_errno(db)) + ")";
  return cause;
}

[[noreturn]] void throwFailure(sqlite3* db, int rc, const std::string& path,
                               const std::string& what) {
  const DbErrorKind kind = kindOf(db, rc);
  const std::string cause = causeOf(db, rc);
  throw DbError(headline(kind, path) + what + ": " + cause + " (code " + std::to_string(rc) + ")",
                kind, cause);
}

class SqliteStatement final : public PreparedStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, const std::string& path)
      : db_(db), stmt_(stmt), path_(path) {}
  // sqlite3_finalize only repeats the error of the last step, which step()
  // has already thrown; there is nothing else it can report.
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  void bindInt(int index, std::int64_t value) override {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail("bind");
  }
  void bindText(int index, std::string_view text) override {
    if (sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                            SQLITE_UTF8) != SQLITE_OK)
      fail("bind");
  }
  void bindBlobNoCopy(int index, const void* data, std::size_t size) override {
    if (sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_STATIC) != SQLITE_OK) fail("bind");
  }
  void bindNull(int index) override {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail("bind");
  }

  bool step() override {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  void reset() noexcept override {
    // sqlite3_reset's code is the last step's, already reported.
    // sqlite3_clear_bindings always returns SQLITE_OK; it drops the
    // pointers that bindBlobNoCopy() lent so they never dangle.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int changes() const override { return sqlite3_changes(db_); }

  std::int64_t getInt(int col) const override { return sqlite3_column_int64(stmt_, col); }
  std::string getText(int col) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    if (p == nullptr) {
      // NULL is a legitimate empty value; anything else is out of memory.
      if (sqlite3_errcode(db_) == SQLITE_NOMEM) fail("column_text");
      return {};
    }
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
  }
  std::string_view getBlob(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    if (p == nullptr) {
      if (sqlite3_errcode(db_) == SQLITE_NOMEM) fail("column_blob");
      return {};
    }
    return std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n));
  }
  bool isNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string columnName(int col) const override {
    const char* name = sqlite3_column_name(stmt_, col);
    return name ? name : "#" + std::to_string(col);
  }
  std::string sql() const override { return sqlite3_sql(stmt_); }

 private:
  [[noreturn]] void fail(const char* operation) const {
    throwFailure(db_, sqlite3_extended_errcode(db_), path_,
                 std::string("sqlite ") + operation + " failed for `" + sqlite3_sql(stmt_) + "`");
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const std::string& path_;
};

class SqliteEngine final : public Engine {
 public:
  SqliteEngine(const std::string& path, OpenMode mode) : path_(path) {
    // NOMUTEX: one Database is used from one thread only, so SQLite's own
    // connection mutex would be pure overhead.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (mode == OpenMode::CreateIfMissing) flags |= SQLITE_OPEN_CREATE;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string cause = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      const DbErrorKind kind = kindOf(db_, rc);
      sqlite3_close_v2(db_);  // always SQLITE_OK for a connection (or null) with no statements
      db_ = nullptr;
      throw DbError("cannot open database " + path + ": " + cause, kind, cause);
    }
    try {
      check(sqlite3_extended_result_codes(db_, 1), "sqlite extended_result_codes");
      check(sqlite3_busy_timeout(db_, kBusyTimeoutMs), "sqlite busy_timeout");
      const std::string journal = queryOnce("PRAGMA journal_mode=WAL");
      // An in-memory database reports "memory": WAL does not apply to it.
      if (journal != "wal" && journal != "memory")
        throw DbError("cannot enable WAL journal mode on " + path + " (got '" + journal + "')");
      queryOnce("PRAGMA synchronous=NORMAL");
      // Checkpoint (copy the WAL into the database and fsync) every 16 MiB
      // of WAL instead of SQLite's 4 MiB: fast build output spent a tenth
      // of the master's time in those fsyncs.
      queryOnce("PRAGMA wal_autocheckpoint=4096");
      queryOnce("PRAGMA foreign_keys=ON");
      if (queryOnce("PRAGMA foreign_keys") != "1")
        throw DbError("cannot enable foreign keys on " + path);
    } catch (...) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw;
    }
  }

  ~SqliteEngine() override {
    // Database destroys its statements first, so a plain close succeeds.
    const int rc = sqlite3_close(db_);
    if (rc != SQLITE_OK) {
      spdlog::error("closing database {} failed: {}", path_, sqlite3_errmsg(db_));
      sqlite3_close_v2(db_);  // deferred close once the stragglers finish
    }
  }

  const Dialect& dialect() const override { return sqliteDialect(); }
  const std::string& location() const override { return path_; }

  std::unique_ptr<PreparedStatement> prepare(const char* sql, bool persistent) override {
    sqlite3_stmt* raw = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
    if (rc != SQLITE_OK) throwFailure(db_, rc, path_, std::string("sqlite prepare failed for `") + sql + "`");
    return std::make_unique<SqliteStatement>(db_, raw, path_);
  }

  void execScript(const std::string& sql, const char* what) override {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      const std::string cause = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      const DbErrorKind kind = kindOf(db_, rc);
      throw DbError(headline(kind, path_) + what + " failed: " + cause + " (code " +
                        std::to_string(rc) + ")",
                    kind, cause);
    }
  }

  bool inTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }

 private:
  void check(int rc, const char* what) {
    if (rc != SQLITE_OK) throwFailure(db_, rc, path_, what);
  }
  // Runs a one-off statement (pragmas at open) and returns the first column
  // of its first row, or "" when it returns no row.
  std::string queryOnce(const char* sql) {
    auto s = prepare(sql, /*persistent=*/false);
    return s->step() ? s->getText(0) : std::string();
  }

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<Engine> openSqliteEngine(const std::string& path, OpenMode mode) {
  return std::make_unique<SqliteEngine>(path, mode);
}

}  // namespace bb::db
