#pragma once
// Internal to master/db: the seam between the database API (Database, which
// speaks the project's records) and one database engine (SQLite or
// PostgreSQL).
//
// An engine owns one connection and turns SQL text into prepared
// statements. The SQL above this seam is written once for every engine:
// standard SQL plus RETURNING and INSERT ... ON CONFLICT (SQLite >= 3.35
// and PostgreSQL both have them), with `?N` placeholders. What cannot be
// written once lives in the engine's Dialect (dialect.hpp), one entry per
// statement or schema word. The PostgreSQL engine is one more
// implementation of these two classes plus its Dialect; its prepare()
// rewrites `?N` to `$N` once per statement (statements are cached, so this
// is not on the hot path).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "master/db/database.hpp"
#include "master/db/db_error.hpp"
#include "master/db/dialect.hpp"

namespace bb::db {

// One prepared statement of an engine. Used by one thread; between uses
// the owner calls reset(). Every failure throws DbError with its kind.
class PreparedStatement {
 public:
  virtual ~PreparedStatement() = default;

  // 1-based parameter indexes. bindText copies; bindBlobNoCopy does not:
  // `data` must outlive the next step().
  virtual void bindInt(int index, std::int64_t value) = 0;
  virtual void bindText(int index, std::string_view text) = 0;
  virtual void bindBlobNoCopy(int index, const void* data, std::size_t size) = 0;
  virtual void bindNull(int index) = 0;

  // Runs to the next row: true for a row, false when done.
  virtual bool step() = 0;
  // Runs a statement whose answer the caller never reads (no rows, no
  // changes()). An engine may send it ahead of what follows and read its
  // answer later, with the next statement that waits for one (PostgreSQL's
  // pipeline mode): a failure then surfaces there, or at the COMMIT. The
  // Database sends ahead only inside a transaction, which such a failure
  // fails either way. `unlessOneChanged`, when not empty, is the error if
  // the statement does not change exactly one row (checked when its answer
  // is read; if that answer came with the transaction's COMMIT, it is
  // logged instead: the transaction is already committed). By default the
  // statement runs at once.
  virtual void sendAhead(const std::string& unlessOneChanged) {
    while (step()) {
    }
    if (!unlessOneChanged.empty() && changes() != 1) throw DbError(unlessOneChanged);
  }
  // Ready to bind and run again; clears the bindings. Never throws.
  virtual void reset() noexcept = 0;
  // Rows changed by the last INSERT/UPDATE/DELETE run of this statement.
  virtual int changes() const = 0;

  // 0-based columns of the current row. NULL reads as 0 / "" / empty.
  virtual std::int64_t getInt(int col) const = 0;
  virtual std::string getText(int col) const = 0;
  virtual std::string_view getBlob(int col) const = 0;  // valid until the next step()
  virtual bool isNull(int col) const = 0;
  virtual std::string columnName(int col) const = 0;
  // The statement's SQL, for messages.
  virtual std::string sql() const = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual const Dialect& dialect() const = 0;
  // Where the data lives (a file path, ":memory:", a server address), for
  // messages.
  virtual const std::string& location() const = 0;

  // A statement for one-off use (persistent = false) or for the cache.
  virtual std::unique_ptr<PreparedStatement> prepare(const char* sql, bool persistent) = 0;
  // Runs a script of several statements (schema migrations); `what` names
  // it in the error.
  virtual void execScript(const std::string& sql, const char* what) = 0;
  // Whether a transaction is open on the connection. An engine may roll a
  // transaction back by itself after some failures (SQLite does on a full
  // disk); Database::rollback() then has nothing left to undo.
  virtual bool inTransaction() const = 0;
  // Reads the answers to the statements sent ahead (sendAhead) and throws
  // the first failure among them; nothing to do when none is outstanding.
  virtual void settle() {}

  // How the connection was used (Database::Traffic). An engine in this
  // process (SQLite) has no round trips and counts nothing.
  virtual Database::Traffic traffic() const { return {}; }
};

// SQLite 3 in WAL mode on `path` (a file or ":memory:"): sqlite_engine.cpp.
std::unique_ptr<Engine> openSqliteEngine(const std::string& path, OpenMode mode);
// PostgreSQL through libpq on `url` (postgresql://user@host:port/db; the
// database must exist, `mode` does not create it): postgres_engine.cpp.
std::unique_ptr<Engine> openPostgresEngine(const std::string& url, OpenMode mode);
// What setServerPassword() stored ("" for none).
const std::string& serverPassword();

}  // namespace bb::db
