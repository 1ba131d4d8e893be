// Telling the other masters on a shared database what this one wrote
// (PostgreSQL NOTIFY); nothing to do on an engine one master has alone.
#include <cstring>

#include "master/db/database.hpp"
#include "master/db/engine.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

bool Database::isShared() const { return std::strlen(engine_->dialect().notify) > 0; }

void Database::notify(const std::string& channel, const std::string& payload) {
  const char* sql = engine_->dialect().notify;
  if (*sql == '\0') return;
  Statement s = stmt(sql);
  s.bind(1, channel).bind(2, payload);
  while (s.step()) {
  }
}

}  // namespace bb::db
