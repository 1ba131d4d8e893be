#pragma once
// The one exception type of the database layer.
#include <stdexcept>
#include <string>

namespace bb {

// Thrown for every failed SQLite call (the message names the operation, the
// SQL where there is one, and sqlite3_errmsg), for data in the database that
// does not decode (corrupt JSON, unknown result value, bad log chunk), and for
// calls that name a row that does not exist where the API requires one.
struct DbError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace bb
