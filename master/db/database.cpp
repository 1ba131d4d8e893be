// Opening the database, the statement cache and transactions.
#include "master/db/database.hpp"

#include <algorithm>

#include <sqlite3.h>
#include <spdlog/spdlog.h>
#include <zstd.h>

#include "master/db/statement.hpp"

namespace bb::db {

namespace {

constexpr int kBusyTimeoutMs = 5000;

// Runs a one-off statement (pragmas at open) and returns the first column of
// its first row, or "" when it returns no row.
std::string queryOnce(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  check(db, sqlite3_prepare_v2(db, sql, -1, &raw, nullptr),
        std::string("sqlite prepare failed for `") + sql + "`");
  Statement s(db, raw, nullptr, /*owned=*/true);
  return s.step() ? s.getText(0) : std::string();
}

}  // namespace

Database::Database(const std::string& path) : path_(path) {
  // NOMUTEX: one Database is used from one thread only, so SQLite's own
  // connection mutex would be pure overhead.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);  // always SQLITE_OK for a connection (or null) with no statements
    db_ = nullptr;
    throw DbError("cannot open database " + path + ": " + msg);
  }
  try {
    check(db_, sqlite3_extended_result_codes(db_, 1), "sqlite extended_result_codes on " + path);
    check(db_, sqlite3_busy_timeout(db_, kBusyTimeoutMs), "sqlite busy_timeout on " + path);
    const std::string mode = queryOnce(db_, "PRAGMA journal_mode=WAL");
    // An in-memory database reports "memory": WAL does not apply to it.
    if (mode != "wal" && mode != "memory") {
      throw DbError("cannot enable WAL journal mode on " + path + " (got '" + mode + "')");
    }
    queryOnce(db_, "PRAGMA synchronous=NORMAL");
    queryOnce(db_, "PRAGMA foreign_keys=ON");
    if (queryOnce(db_, "PRAGMA foreign_keys") != "1") {
      throw DbError("cannot enable foreign keys on " + path);
    }
    cctx_ = ZSTD_createCCtx();
    dctx_ = ZSTD_createDCtx();
    if (cctx_ == nullptr || dctx_ == nullptr) throw DbError("cannot allocate zstd contexts");
  } catch (...) {
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeDCtx(dctx_);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  if (depth_ > 0) rollbackAfterError();
  for (auto& [sql, cached] : cache_) {
    // finalize repeats the last step's error, which was reported then.
    sqlite3_finalize(cached.stmt);
  }
  cache_.clear();
  ZSTD_freeCCtx(cctx_);
  ZSTD_freeDCtx(dctx_);
  const int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) {
    spdlog::error("closing database {} failed: {}", path_, sqlite3_errmsg(db_));
    sqlite3_close_v2(db_);  // deferred close once the stragglers finish
  }
}

sqlite3_stmt* Database::prepare(const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  check(db_, rc, std::string("sqlite prepare failed for `") + sql + "`");
  return raw;
}

Statement Database::stmt(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, CachedStatement{prepare(sql), false}).first;
  CachedStatement& cached = it->second;
  if (cached.busy) return Statement(db_, prepare(sql), nullptr, /*owned=*/true);
  cached.busy = true;
  return Statement(db_, cached.stmt, &cached.busy, /*owned=*/false);
}

void Database::execScript(const char* sql, const char* what) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw DbError(std::string(what) + " failed: " + msg + " (code " + std::to_string(rc) + ")");
  }
}

void Database::begin() {
  // IMMEDIATE takes the write lock now, so a transaction never fails half
  // way with SQLITE_BUSY when it first writes.
  static constexpr char kBegin[] = "BEGIN IMMEDIATE";
  static constexpr char kSavepoint[] = "SAVEPOINT bb_nested";
  stmt(depth_ == 0 ? kBegin : kSavepoint).run();
  ++depth_;
  afterCommitMarks_.push_back(afterCommit_.size());
}

void Database::afterCommit(std::function<void()> fn) {
  if (depth_ == 0) {
    fn();
    return;
  }
  afterCommit_.push_back(std::move(fn));
}

void Database::runAfterCommit() {
  auto due = std::move(afterCommit_);
  afterCommit_.clear();
  for (auto& fn : due) {
    try {
      fn();
    } catch (const std::exception& e) {
      // What was committed stays committed; the failed follow-up is the
      // follow-up's owner's problem, and must not stop the others.
      spdlog::error("after commit: {}", e.what());
    }
  }
}

void Database::dropAfterCommitOfLevel() {
  if (afterCommitMarks_.empty()) return;
  afterCommit_.resize(std::min(afterCommit_.size(), afterCommitMarks_.back()));
  afterCommitMarks_.pop_back();
}

void Database::commit() {
  static constexpr char kCommit[] = "COMMIT";
  static constexpr char kRelease[] = "RELEASE bb_nested";
  if (depth_ == 0) throw DbError("commit() without a matching begin()");
  // depth_ only drops on success: a failed COMMIT leaves the transaction
  // open for the caller's rollback().
  stmt(depth_ == 1 ? kCommit : kRelease).run();
  --depth_;
  if (!afterCommitMarks_.empty()) afterCommitMarks_.pop_back();
  if (depth_ == 0) runAfterCommit();
}

void Database::rollback() {
  static constexpr char kRollback[] = "ROLLBACK";
  static constexpr char kRollbackTo[] = "ROLLBACK TO bb_nested";
  static constexpr char kRelease[] = "RELEASE bb_nested";
  if (depth_ == 0) throw DbError("rollback() without a matching begin()");
  if (sqlite3_get_autocommit(db_)) {
    // SQLite already rolled the whole transaction back itself (it does so
    // on SQLITE_FULL, IOERR, NOMEM...): nothing is left to undo at any level.
    --depth_;
    dropAfterCommitOfLevel();
    return;
  }
  if (depth_ == 1) {
    stmt(kRollback).run();
  } else {
    stmt(kRollbackTo).run();
    stmt(kRelease).run();
  }
  --depth_;
  dropAfterCommitOfLevel();
}

void Database::rollbackAfterError() noexcept {
  try {
    rollback();
  } catch (const std::exception& e) {
    // The error being propagated matters more than this one; keep the
    // counter consistent with SQLite's view and log it.
    spdlog::error("database rollback failed: {}", e.what());
    if (sqlite3_get_autocommit(db_)) depth_ = 0;
    else if (depth_ > 0) --depth_;
    dropAfterCommitOfLevel();
    if (depth_ == 0) {
      afterCommit_.clear();
      afterCommitMarks_.clear();
    }
  }
}

}  // namespace bb::db
