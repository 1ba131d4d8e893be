// Schema creation, versions and the open-time settings.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

namespace fs = std::filesystem;

struct SchemaTempDir {
  fs::path path;
  SchemaTempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bb_db_schema_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~SchemaTempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Reads one integer with a separate raw connection, so the test checks what
// is really on disk rather than what the Database under test reports.
std::int64_t rawQueryInt(const std::string& file, const char* sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("open failed");
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("prepare failed: " + msg);
  }
  std::int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

TEST(Schema, EmptyDatabaseIsVersionZero) {
  Database db(":memory:");
  EXPECT_EQ(db.schemaVersion(), 0);
  EXPECT_GE(Database::latestSchemaVersion(), 1);
}

TEST(Schema, UpgradeFromEmptyReachesLatest) {
  Database db(":memory:");
  db.upgrade();
  EXPECT_EQ(db.schemaVersion(), Database::latestSchemaVersion());
  EXPECT_NO_THROW(db.requireCurrentSchema());
  // Upgrading a current database is a no-op.
  db.upgrade();
  EXPECT_EQ(db.schemaVersion(), Database::latestSchemaVersion());
  EXPECT_EQ(db.transactionDepth(), 0);
}

TEST(Schema, RequireCurrentSchemaRejectsEmptyDatabase) {
  Database db(":memory:");
  try {
    db.requireCurrentSchema();
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("schema is version 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("needs " + std::to_string(Database::latestSchemaVersion())),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("buildmaster upgrade-master"), std::string::npos) << msg;
  }
}

TEST(Schema, RequireCurrentSchemaRejectsNewerDatabase) {
  SchemaTempDir dir;
  const std::string file = (dir.path / "state.sqlite").string();
  {
    Database db(file);
    db.upgrade();
  }
  {
    // Simulate a database written by a newer buildmaster.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "UPDATE schema_version SET version = 99", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_close(raw), SQLITE_OK);
  }
  Database db(file);
  EXPECT_EQ(db.schemaVersion(), 99);
  EXPECT_THROW(db.requireCurrentSchema(), DbError);
  try {
    db.upgrade();
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST(Schema, FileDatabaseUsesWalAndPersists) {
  SchemaTempDir dir;
  const std::string file = (dir.path / "state.sqlite").string();
  {
    Database db(file);
    db.upgrade();
    db.setState("poller", "rev", Json("abc"));
  }
  EXPECT_EQ(rawQueryInt(file, "SELECT version FROM schema_version"),
            Database::latestSchemaVersion());
  EXPECT_EQ(rawQueryInt(file, "SELECT count(*) FROM object_state"), 1);
  // journal_mode is stored in the file header once WAL is on (bytes 18-19 == 2).
  std::ifstream in(file, std::ios::binary);
  char header[20] = {};
  in.read(header, sizeof header);
  ASSERT_TRUE(in.good());
  EXPECT_EQ(header[18], 2);
  EXPECT_EQ(header[19], 2);

  Database again(file);
  EXPECT_NO_THROW(again.requireCurrentSchema());
  EXPECT_EQ(again.getState("poller", "rev"), Json("abc"));
}

TEST(Schema, PendingQueryUsesThePartialIndex) {
  // The hot query must not scan or sort the whole buildrequests table.
  SchemaTempDir dir;
  const std::string file = (dir.path / "state.sqlite").string();
  {
    Database db(file);
    db.upgrade();
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw,
                               "EXPLAIN QUERY PLAN SELECT id FROM buildrequests WHERE complete = 0"
                               " AND claimed = 0 ORDER BY priority DESC, submitted_at, id",
                               -1, &st, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    plan += "\n";
  }
  sqlite3_finalize(st);
  sqlite3_close(raw);
  EXPECT_NE(plan.find("buildrequests_pending"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

TEST(Schema, OpeningANonDatabaseFileFailsClearly) {
  SchemaTempDir dir;
  const std::string file = (dir.path / "garbage.sqlite").string();
  {
    std::ofstream out(file, std::ios::binary);
    out << std::string(4096, 'x');
  }
  try {
    Database db(file);
    db.schemaVersion();
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("not a database"), std::string::npos) << e.what();
  }
}

TEST(Schema, OpeningAMissingDirectoryFails) {
  SchemaTempDir dir;
  const std::string file = (dir.path / "no" / "such" / "dir" / "state.sqlite").string();
  try {
    Database db(file);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}

TEST(Schema, Version4MovesListStylePendingSchedulerStateToOneRowPerChange) {
  Database db(":memory:");
  db.upgradeTo(3);  // as a master before version 4 left it
  db.setState("scheduler:quick", "pending",
              Json{{"changes", {7, 9}}, {"important", true}, {"fire_at_ms", 1234}});
  db.setState("scheduler:any", "pending",
              Json::array({Json{{"repository", "app"}, {"branch", "main"}, {"changes", {3}},
                                {"important", false}, {"fire_at_ms", 0}}}));
  db.setState("scheduler:done", "pending", Json{{"important", false}, {"fire_at_ms", 0}});
  // Not a scheduler, not "pending": left alone even if it looks similar.
  db.setState("poller:app", "pending", Json{{"changes", {1}}});
  db.setState("scheduler:quick", "other", Json{{"changes", {1}}});
  db.upgrade();
  EXPECT_EQ(db.schemaVersion(), Database::latestSchemaVersion());

  EXPECT_EQ(*db.getState("scheduler:quick", "pending"),
            (Json{{"important", true}, {"fire_at_ms", 1234}}));
  const auto quick = db.statesWithPrefix("scheduler:quick", "pending-change:");
  ASSERT_EQ(quick.size(), 2u);
  EXPECT_EQ(quick[0], (std::pair<std::string, Json>{"pending-change:7", Json::object()}));
  EXPECT_EQ(quick[1], (std::pair<std::string, Json>{"pending-change:9", Json::object()}));

  EXPECT_EQ(*db.getState("scheduler:any", "pending"),
            Json::array({Json{{"repository", "app"}, {"branch", "main"}, {"important", false},
                              {"fire_at_ms", 0}}}));
  EXPECT_EQ(*db.getState("scheduler:any", "pending-change:3"),
            (Json{{"repository", "app"}, {"branch", "main"}}));

  EXPECT_EQ(*db.getState("scheduler:done", "pending"), (Json{{"important", false}, {"fire_at_ms", 0}}));
  EXPECT_TRUE(db.statesWithPrefix("scheduler:done", "pending-change:").empty());
  EXPECT_EQ(*db.getState("poller:app", "pending"), (Json{{"changes", {1}}}));
  EXPECT_EQ(*db.getState("scheduler:quick", "other"), (Json{{"changes", {1}}}));
}

TEST(Schema, UpgradeToAVersionThatDoesNotExistIsAnError) {
  Database db(":memory:");
  EXPECT_THROW(db.upgradeTo(Database::latestSchemaVersion() + 1), DbError);
  EXPECT_THROW(db.upgradeTo(-1), DbError);
  EXPECT_EQ(db.schemaVersion(), 0);
}

}  // namespace
}  // namespace bb::db
