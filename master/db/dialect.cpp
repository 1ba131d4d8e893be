#include "master/db/dialect.hpp"

#include <stdexcept>

namespace bb::db {

std::string Dialect::expand(std::string_view ddl) const {
  std::string out;
  out.reserve(ddl.size());
  std::size_t pos = 0;
  while (pos < ddl.size()) {
    const std::size_t open = ddl.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(ddl.substr(pos));
      break;
    }
    const std::size_t close = ddl.find("}}", open);
    if (close == std::string_view::npos) throw std::logic_error("unclosed {{ in a schema script");
    out.append(ddl.substr(pos, open - pos));
    const std::string_view word = ddl.substr(open + 2, close - open - 2);
    if (word == "ID") out += idColumn;
    else if (word == "BLOB") out += blobType;
    else if (word == "CLUSTERED") out += clusteredTable;
    else throw std::logic_error("unknown schema word {{" + std::string(word) + "}}");
    pos = close + 2;
  }
  return out;
}

const Dialect& sqliteDialect() {
  static const Dialect kSqlite{
      .name = "sqlite",
      .beginWrite = "BEGIN IMMEDIATE",
      .tableExists = "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
      .idColumn = "INTEGER PRIMARY KEY",
      .blobType = "BLOB",
      .clusteredTable = "WITHOUT ROWID",
  };
  return kSqlite;
}

}  // namespace bb::db
