#include "master/db/statement.hpp"

#include "master/db/db_error.hpp"

namespace bb::db {

void Statement::run() {
  if (step())
    throw DbError("statement `" + ps_->sql() + "` returned a row where none was expected");
}

void Statement::runAheadImpl(const std::string& unlessOneChanged) {
  if (inTransaction_) {
    ps_->sendAhead(unlessOneChanged);
    return;
  }
  while (step()) {
  }
  if (!unlessOneChanged.empty() && changes() != 1) throw DbError(unlessOneChanged);
}

void Statement::requireRow() {
  if (!step())
    throw DbError("statement `" + ps_->sql() + "` returned no row where one was expected");
}

Result Statement::getResult(int col) const {
  const std::int64_t v = getInt(col);
  const auto r = resultFromInt(v);
  if (!r) {
    throw DbError("corrupt database: column " + ps_->columnName(col) +
                      " holds unknown result value " + std::to_string(v),
                  DbErrorKind::Corrupt);
  }
  return *r;
}

nlohmann::json Statement::getJson(int col) const {
  const std::string text = getText(col);
  if (text.empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw DbError("corrupt database: column " + ps_->columnName(col) +
                      " holds invalid JSON: " + e.what(),
                  DbErrorKind::Corrupt);
  }
}

}  // namespace bb::db
