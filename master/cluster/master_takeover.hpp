#pragma once
// Taking over what a master left: its builds that were running end RETRY
// and its claimed requests go back in the queue, so they run again (once),
// on whichever master has a slave for them. The same step serves a master
// recovering its own work at startup and a survivor taking over a dead
// master's (master_watch.hpp).
#include <cstdint>
#include <string>

#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

struct TakenOver {
  int builds = 0;      // unfinished builds ended RETRY
  int requests = 0;    // claimed requests put back in the queue
  int schedulers = 0;  // schedulers released
  int locks = 0;       // master-scoped lock holds dropped
};

// Ends `master`'s unfinished builds RETRY at `now` (their open steps RETRY,
// their logs closed) with `why` as their text, drops the master-scoped
// locks it held in the database (locks_db.cpp), unclaims its requests and,
// when `releaseSchedulers`, lets go of the schedulers it held. Call inside
// a transaction: all of it or nothing. Throws DbError.
TakenOver takeOverWorkOf(db::Database& db, db::MasterId master, std::int64_t now,
                         const std::string& why, bool releaseSchedulers);

}  // namespace bb
