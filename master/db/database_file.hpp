#pragma once
// Opening a master's database for the buildmaster verbs, with the checks
// that keep history from being lost silently: only `create-master` makes a
// database, and a missing, empty, damaged or foreign file is refused with
// one message that names the file, says what is wrong and what to do.
#include <memory>
#include <string>

#include "master/db/database.hpp"

namespace bb::db {

// What the database is opened for.
enum class OpenPurpose {
  Start,    // `start`: the database must exist with the current schema
  Create,   // `create-master`: make it (or bring an existing one up to date)
  Upgrade,  // `upgrade-master`: it must exist; the caller upgrades it
};

// Opens the database file `path` of the master in `masterDir` (named in
// the advice) for `purpose`:
// - Start refuses a missing or empty (0 bytes) file, one that is damaged
//   or not a database, one without the buildmaster schema, and a schema
//   older or newer than this program's. It never creates or changes the
//   file when it refuses.
// - Create makes a missing file, fills an empty one with the latest
//   schema and upgrades an older schema; it refuses a damaged file.
// - Upgrade refuses what Start refuses, except an older schema.
// Throws DbError whose message is the whole answer for the user.
std::unique_ptr<Database> openMasterDatabase(const std::string& path, const std::string& masterDir,
                                             OpenPurpose purpose);

}  // namespace bb::db
