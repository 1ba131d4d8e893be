#include "master/db/statement.hpp"

#include "master/db/db_error.hpp"

namespace bb::db {

namespace {

std::string describe(sqlite3* db, int rc) {
  // The connection's message is the most specific one, but only when it
  // belongs to this failure (extended code matches); else the code's text.
  std::string msg = sqlite3_errcode(db) == (rc & 0xff) || sqlite3_extended_errcode(db) == rc
                        ? sqlite3_errmsg(db)
                        : sqlite3_errstr(rc);
  return msg + " (code " + std::to_string(rc) + ")";
}

}  // namespace

void check(sqlite3* db, int rc, const std::string& what) {
  if (rc != SQLITE_OK) throw DbError(what + ": " + describe(db, rc));
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, bool* busy, bool owned)
    : db_(db), stmt_(stmt), busy_(busy), owned_(owned) {}

Statement::~Statement() {
  if (owned_) {
    // sqlite3_finalize only repeats the error of the last step, which step()
    // has already thrown; there is nothing else it can report.
    sqlite3_finalize(stmt_);
    return;
  }
  // Same for sqlite3_reset: its code is the last step's, already reported.
  // sqlite3_clear_bindings always returns SQLITE_OK; it drops the pointers
  // that bindBlobNoCopy() lent so they never dangle.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (busy_) *busy_ = false;
}

void Statement::fail(const char* operation) const {
  const int rc = sqlite3_extended_errcode(db_);
  throw DbError(std::string("sqlite ") + operation + " failed for `" + sqlite3_sql(stmt_) +
                "`: " + sqlite3_errmsg(db_) + " (code " + std::to_string(rc) + ")");
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail("bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                          SQLITE_UTF8) != SQLITE_OK) {
    fail("bind");
  }
  return *this;
}

Statement& Statement::bind(int index, Result r) {
  return bind(index, static_cast<std::int64_t>(r));
}

Statement& Statement::bindJson(int index, const nlohmann::json& value) {
  return bind(index, value.dump());
}

Statement& Statement::bindNull(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail("bind");
  return *this;
}

Statement& Statement::bindBlobNoCopy(int index, const void* data, std::size_t size) {
  if (sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_STATIC) != SQLITE_OK) fail("bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail("step");
}

void Statement::run() {
  if (step()) {
    throw DbError(std::string("sqlite statement `") + sqlite3_sql(stmt_) +
                  "` returned a row where none was expected");
  }
}

void Statement::requireRow() {
  if (!step()) {
    throw DbError(std::string("sqlite statement `") + sqlite3_sql(stmt_) +
                  "` returned no row where one was expected");
  }
}

int Statement::changes() const { return sqlite3_changes(db_); }

std::int64_t Statement::getInt(int col) const { return sqlite3_column_int64(stmt_, col); }

bool Statement::isNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::string Statement::getText(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) {
    // NULL is a legitimate empty value; anything else is out of memory.
    if (sqlite3_errcode(db_) == SQLITE_NOMEM) fail("column_text");
    return {};
  }
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

std::string_view Statement::getBlob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) {
    if (sqlite3_errcode(db_) == SQLITE_NOMEM) fail("column_blob");
    return {};
  }
  return std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

Result Statement::getResult(int col) const {
  const std::int64_t v = getInt(col);
  const auto r = resultFromInt(v);
  if (!r) {
    throw DbError("corrupt database: column " + std::string(sqlite3_column_name(stmt_, col)) +
                  " holds unknown result value " + std::to_string(v));
  }
  return *r;
}

nlohmann::json Statement::getJson(int col) const {
  const std::string text = getText(col);
  if (text.empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw DbError("corrupt database: column " + std::string(sqlite3_column_name(stmt_, col)) +
                  " holds invalid JSON: " + e.what());
  }
}

}  // namespace bb::db
