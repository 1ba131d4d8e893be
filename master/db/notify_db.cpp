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
  // In a transaction, sent ahead: several channels' notifications go in
  // one round trip, with the COMMIT that delivers them.
  stmt(sql).bind(1, channel).bind(2, payload).runAhead();
}

void Database::notifyMastersWanting(Wish wish, const std::string& channelPrefix, MasterId self,
                                    const std::string& payload) {
  const Dialect& d = engine_->dialect();
  const char* sql = wish == Wish::Changes ? d.notifyWantingChanges : d.notifyWantingBuildsets;
  if (*sql == '\0') return;
  stmt(sql).bind(1, channelPrefix).bind(2, payload).bind(3, self.value).runAhead();
}

}  // namespace bb::db
