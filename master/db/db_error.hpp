#pragma once
// The one exception type of the database layer.
#include <stdexcept>
#include <string>
#include <utility>

namespace bb {

// What kind of failure a DbError is, so that callers can tell a full disk
// or a damaged file (the operator's problem) from a bug (ours).
enum class DbErrorKind {
  DiskFull,    // no space left for the database (disk full, quota or size limit)
  Busy,        // another process holds the database's lock past the wait limit
  Corrupt,     // the file is damaged, not a database, or holds data that does not decode
  Constraint,  // a UNIQUE, FOREIGN KEY, NOT NULL or CHECK rule refused the change
  ConnectionLost,  // a database server (PostgreSQL) cannot be reached or dropped the connection
  Other,       // anything else: a missing row the call requires, a bad argument, a bug
};

// "disk full", "busy", "corrupt", "constraint", "connection lost", "other".
const char* toString(DbErrorKind kind);

// Thrown for every failed database call (the message names the database
// file, the operation, the SQL where there is one, and the engine's own
// words), for data in the database that does not decode (corrupt JSON,
// unknown result value, bad log chunk), and for calls that name a row that
// does not exist where the API requires one.
struct DbError : std::runtime_error {
  explicit DbError(const std::string& message, DbErrorKind kind = DbErrorKind::Other,
                   std::string cause = {})
      : std::runtime_error(message), kind_(kind), cause_(std::move(cause)) {}

  DbErrorKind kind() const { return kind_; }
  // The database engine's own short words for the failure (e.g. "database
  // or disk is full"), without file or SQL; empty when the engine did not
  // fail (a decoding error, a missing row).
  const std::string& cause() const { return cause_; }

 private:
  DbErrorKind kind_;
  std::string cause_;
};

}  // namespace bb
