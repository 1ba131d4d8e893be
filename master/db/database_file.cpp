#include "master/db/database_file.hpp"

#include <filesystem>
#include <system_error>

namespace bb::db {

namespace fs = std::filesystem;

namespace {

std::string createCommand(const std::string& masterDir) {
  return "`buildmaster create-master " + masterDir + "`";
}

// The advice for a file that holds nothing usable.
std::string startAfresh(const std::string& masterDir) {
  return "Restore it from a backup, or move it away and run " + createCommand(masterDir) +
         " to start this master afresh with an empty database.";
}

// A file database with no bytes in it. Its write-ahead log is checked
// too: after a crash the pages may all still be there, and the engine
// recovers them.
bool emptyFile(const std::string& path) {
  std::error_code ec;
  if (fs::file_size(path, ec) != 0 || ec) return false;
  const auto wal = fs::file_size(path + "-wal", ec);
  return ec || wal == 0;
}

}  // namespace

std::unique_ptr<Database> openMasterDatabase(const std::string& path, const std::string& masterDir,
                                             OpenPurpose purpose) {
  const bool create = purpose == OpenPurpose::Create;
  const bool server = isServerDatabase(path);
  std::error_code ec;
  // A server's database is made by its administrator (CREATE DATABASE);
  // connecting says whether it exists.
  const bool exists = server || fs::exists(path, ec);
  if (!create && !exists && !ec) {
    throw DbError("database " + path + " does not exist" +
                  (purpose == OpenPurpose::Upgrade ? ", so there is nothing to upgrade" : "") +
                  ". If this master had history, restore the file from a backup; to start it "
                  "afresh with an empty database, run " +
                  createCommand(masterDir) + ".");
  }
  if (!create && exists && !server && emptyFile(path)) {
    throw DbError("database " + path +
                  " is empty (0 bytes): it holds no schema and no history, so it was truncated or "
                  "never set up. Restore it from a backup, or run " +
                  createCommand(masterDir) + " to start this master afresh with an empty database.");
  }
  std::unique_ptr<Database> db;
  int version = 0;
  try {
    db = std::make_unique<Database>(path, create ? OpenMode::CreateIfMissing : OpenMode::MustExist);
    version = db->schemaVersion();
  } catch (const DbError& e) {
    if (e.kind() != DbErrorKind::Corrupt) throw;
    throw DbError("database " + path + " is damaged or is not a buildmaster database (" +
                      (e.cause().empty() ? std::string(e.what()) : e.cause()) + "). " +
                      startAfresh(masterDir),
                  DbErrorKind::Corrupt, e.cause());
  }
  const int latest = Database::latestSchemaVersion();
  if (version > latest) {
    throw DbError("database " + path + " has schema version " + std::to_string(version) +
                  ", newer than this buildmaster supports (" + std::to_string(latest) +
                  "); use a newer buildmaster.");
  }
  if (create) {
    db->upgrade();
    return db;
  }
  if (version == 0 && server) {
    throw DbError("database " + path + " holds no buildmaster schema. If it is this master's "
                  "database, run " + createCommand(masterDir) + " to create the schema in it.");
  }
  if (version == 0) {
    throw DbError("database " + path + " holds no buildmaster schema, so it is not this master's "
                  "database. " + startAfresh(masterDir));
  }
  if (purpose == OpenPurpose::Start && version < latest) {
    throw DbError("database " + path + " has schema version " + std::to_string(version) +
                  " but this buildmaster needs " + std::to_string(latest) +
                  ". Back the file up, then run `buildmaster upgrade-master " + masterDir + "`.");
  }
  return db;
}

}  // namespace bb::db
