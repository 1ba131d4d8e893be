#pragma once
// Internal to master/db: a borrowed, bound, stepped SQLite statement.
// A Statement is handed out by Database::stmt() for the length of one call;
// its destructor resets it so the cached sqlite3_stmt is ready for reuse.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/message.hpp"
#include "common/results.hpp"

namespace bb::db {

class Statement {
 public:
  // `busy` (may be null) is cleared on destruction; `owned` statements are
  // finalized on destruction instead of being reset for reuse.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* busy, bool owned);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binders take 1-based parameter indexes, copy their argument (so
  // temporaries are safe) and throw DbError on failure.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, Result r);
  Statement& bindJson(int index, const nlohmann::json& value);
  Statement& bindNull(int index);
  // Binds without copying: `data` must outlive the statement's next step().
  Statement& bindBlobNoCopy(int index, const void* data, std::size_t size);

  // Runs to the next row: true for a row, false when done; throws DbError.
  bool step();
  // Steps once and requires that the statement is done (no row); throws
  // DbError otherwise.
  void run();
  // Steps once and requires a row (e.g. INSERT ... RETURNING); throws
  // DbError otherwise.
  void requireRow();
  // Rows changed by the last run()/step() of an INSERT/UPDATE/DELETE.
  int changes() const;

  // Column readers, 0-based. NULL reads as 0 / "" / empty blob.
  std::int64_t getInt(int col) const;
  bool getBool(int col) const { return getInt(col) != 0; }
  std::string getText(int col) const;
  std::string_view getBlob(int col) const;  // valid until the next step()
  bool isNull(int col) const;
  // Throws DbError naming the column for an unknown value / corrupt JSON.
  Result getResult(int col) const;
  nlohmann::json getJson(int col) const;

  // "<operation> failed for `<sql>`: <errmsg>" as a DbError.
  [[noreturn]] void fail(const char* operation) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* busy_;
  bool owned_;
};

// Throws DbError("<what>: <sqlite3_errmsg>") unless rc is SQLITE_OK.
void check(sqlite3* db, int rc, const std::string& what);

}  // namespace bb::db
