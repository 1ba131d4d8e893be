// Failures surface as DbError with the operation, SQL and SQLite's message.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

namespace fs = std::filesystem;

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const DbError& e) {
    return e.what();
  }
  return "<no DbError>";
}

TEST(Errors, ConstraintViolationNamesSqlAndReason) {
  Database db(":memory:");
  db.upgrade();
  BuildsetRecord bs;
  const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
  const auto build = db.addBuild(db.registerMaster("m", 1), brid, "a", "s", 1, Json::object());
  db.addStep(build.id, 1, "compile", 1);
  const std::string msg = errorOf([&] { db.addStep(build.id, 1, "compile", 2); });
  EXPECT_NE(msg.find("INSERT INTO steps"), std::string::npos) << msg;
  EXPECT_NE(msg.find("UNIQUE constraint failed"), std::string::npos) << msg;
  // The statement is reusable after the failure.
  EXPECT_GT(db.addStep(build.id, 2, "test", 3), 0);
}

TEST(Errors, ForeignKeyViolation) {
  Database db(":memory:");
  db.upgrade();
  const std::string msg = errorOf([&] { db.addStep(424242, 1, "orphan", 1); });
  EXPECT_NE(msg.find("FOREIGN KEY constraint failed"), std::string::npos) << msg;
}

TEST(Errors, MissingSchemaNamesTheTable) {
  Database db(":memory:");  // not upgraded
  const std::string msg = errorOf([&] { db.addChange(ChangeRecord{}); });
  EXPECT_NE(msg.find("prepare"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such table: changes"), std::string::npos) << msg;
  EXPECT_EQ(db.transactionDepth(), 0);
}

class CorruptData : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bb_db_err_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    file = (dir / "state.sqlite").string();
    Database db(file);
    db.upgrade();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void rawExec(const char* sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    ASSERT_EQ(sqlite3_close(raw), SQLITE_OK);
  }
  fs::path dir;
  std::string file;
};

TEST_F(CorruptData, InvalidJsonIsReported) {
  rawExec("INSERT INTO object_state (object, key, value) VALUES ('o', 'k', '{not json')");
  Database db(file);
  const std::string msg = errorOf([&] { db.getState("o", "k"); });
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
}

TEST_F(CorruptData, UnknownResultIsReported) {
  rawExec(
      "INSERT INTO buildsets (reason, scheduler, ss_repository, ss_branch, ss_revision,"
      " ss_project, properties, submitted_at, result) VALUES ('', '', '', '', '', '', '{}', 0, 42)");
  Database db(file);
  const std::string msg = errorOf([&] { db.getBuildset(1); });
  EXPECT_NE(msg.find("unknown result value 42"), std::string::npos) << msg;
}

TEST_F(CorruptData, DamagedLogChunkIsReported) {
  std::int64_t logId = 0;
  {
    Database db(file);
    BuildsetRecord bs;
    const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
    const auto build = db.addBuild(db.registerMaster("m", 1), brid, "a", "s", 1, Json::object());
    logId = db.addLog(db.addStep(build.id, 1, "x", 1), "stdio");
    db.appendLog(logId, 0, std::string(1000, 'z'));
  }
  rawExec("UPDATE log_chunks SET compressed = x'00010203'");
  Database db(file);
  const std::string msg = errorOf([&] { db.readLog(logId, [](int, std::string_view) { return true; }); });
  EXPECT_NE(msg.find("corrupt log chunk 0 of log " + std::to_string(logId)), std::string::npos)
      << msg;
}

}  // namespace
}  // namespace bb::db
