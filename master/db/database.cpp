// Opening the database, the statement cache and transactions.
#include "master/db/database.hpp"

#include <chrono>

#include <algorithm>

#include <spdlog/spdlog.h>
#include <zstd.h>

#include "master/db/engine.hpp"
#include "master/db/log_files.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

Database::Database(const std::string& path, OpenMode mode)
    : Database(isServerDatabase(path) ? openPostgresEngine(path, mode)
                                      : openSqliteEngine(path, mode)) {}

Database::Database(std::unique_ptr<Engine> engine)
    : engine_(std::move(engine)), path_(engine_->location()) {
  cctx_ = ZSTD_createCCtx();
  dctx_ = ZSTD_createDCtx();
  if (cctx_ == nullptr || dctx_ == nullptr) {
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeDCtx(dctx_);
    throw DbError("cannot allocate zstd contexts");
  }
  if (const std::string dir = logFilesDir(); !dir.empty()) logFiles_ = std::make_unique<LogFiles>(dir);
}

std::string Database::logFilesDir() const {
  if (isShared() || path_.empty() || path_ == ":memory:") return "";
  return path_ + ".logs";
}

Database::~Database() {
  if (depth_ > 0) rollbackAfterError();
  // Statements go before the engine that made them.
  cache_.clear();
  ZSTD_freeCCtx(cctx_);
  ZSTD_freeDCtx(dctx_);
}

Statement Database::stmt(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end())
    it = cache_.emplace(sql, CachedStatement{engine_->prepare(sql, /*persistent=*/true), false}).first;
  CachedStatement& cached = it->second;
  if (cached.busy) return Statement(engine_->prepare(sql, /*persistent=*/false), depth_ > 0);
  cached.busy = true;
  return Statement(*cached.stmt, cached.busy, depth_ > 0);
}

Statement Database::oneOffStmt(const std::string& sql) {
  return Statement(engine_->prepare(sql.c_str(), /*persistent=*/false), depth_ > 0);
}

Database::Traffic Database::traffic() const { return engine_->traffic(); }

void Database::execScript(const char* sql, const char* what) {
  engine_->execScript(engine_->dialect().expand(sql), what);
}

void Database::begin() {
  static constexpr char kSavepoint[] = "SAVEPOINT bb_nested";
  // Sent ahead: BEGIN goes to a database server with the transaction's
  // first statement that waits for an answer (or its COMMIT), not in a
  // round trip of its own. Its failure surfaces there.
  const char* sql = depth_ == 0 ? engine_->dialect().beginWrite : kSavepoint;
  ++depth_;
  try {
    stmt(sql).runAhead();
  } catch (...) {
    --depth_;
    throw;
  }
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
  static constexpr char kRelease[] = "RELEASE SAVEPOINT bb_nested";
  if (depth_ == 0) throw DbError("commit() without a matching begin()");
  // depth_ only drops on success: a failed COMMIT leaves the transaction
  // open for the caller's rollback().
  if (depth_ == 1) {
    const auto t0 = std::chrono::steady_clock::now();
    stmt(kCommit).run();
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++commitStats_.count;
    commitStats_.seconds += took;
    for (std::size_t i = 0; i < CommitStats::kBounds.size(); ++i)
      if (took <= CommitStats::kBounds[i]) {
        ++commitStats_.buckets[i];
        break;
      }
  } else {
    stmt(kRelease).runAhead();
  }
  --depth_;
  if (!afterCommitMarks_.empty()) afterCommitMarks_.pop_back();
  if (depth_ == 0) runAfterCommit();
}

void Database::rollback() {
  static constexpr char kRollback[] = "ROLLBACK";
  static constexpr char kRollbackTo[] = "ROLLBACK TO SAVEPOINT bb_nested";
  static constexpr char kRelease[] = "RELEASE SAVEPOINT bb_nested";
  if (depth_ == 0) throw DbError("rollback() without a matching begin()");
  try {
    // What was sent ahead is answered first; a failure among it is why the
    // caller rolls back, or is undone by the rollback anyway.
    engine_->settle();
  } catch (const DbError& e) {
    spdlog::debug("database {}: before rolling back: {}", path_, e.what());
  }
  if (!engine_->inTransaction()) {
    // The engine already rolled the whole transaction back itself (SQLite
    // does on a full disk, I/O errors, out of memory): nothing is left to
    // undo at any level.
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
    // counter consistent with the engine's view and log it.
    spdlog::error("database rollback failed: {}", e.what());
    if (!engine_->inTransaction()) depth_ = 0;
    else if (depth_ > 0) --depth_;
    dropAfterCommitOfLevel();
    if (depth_ == 0) {
      afterCommit_.clear();
      afterCommitMarks_.clear();
    }
  }
}

}  // namespace bb::db
