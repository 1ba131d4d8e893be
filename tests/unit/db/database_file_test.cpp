// Opening a master's database for start, create-master and upgrade-master:
// what each refuses, with which words, and that a refusal changes nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "master/db/database_file.hpp"

namespace bb::db {
namespace {

namespace fs = std::filesystem;

class DatabaseFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bb_db_file_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    file = dir + "/state.sqlite";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void write(const std::string& content) { std::ofstream(file, std::ios::binary) << content; }
  std::string read() const {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string errorOf(OpenPurpose purpose) {
    try {
      openMasterDatabase(file, dir, purpose);
    } catch (const DbError& e) {
      return e.what();
    }
    return "<no DbError>";
  }
  void makeAtVersion(int version) {
    Database db(file);
    db.upgradeTo(version);
  }

  std::string dir, file;
};

TEST_F(DatabaseFile, CreateMakesAMissingFileWithTheLatestSchema) {
  auto db = openMasterDatabase(file, dir, OpenPurpose::Create);
  EXPECT_EQ(db->schemaVersion(), Database::latestSchemaVersion());
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(DatabaseFile, CreateFillsAnEmptyFileAndUpgradesAnOldSchema) {
  write("");
  EXPECT_EQ(openMasterDatabase(file, dir, OpenPurpose::Create)->schemaVersion(),
            Database::latestSchemaVersion());
  fs::remove(file);
  makeAtVersion(3);
  EXPECT_EQ(openMasterDatabase(file, dir, OpenPurpose::Create)->schemaVersion(),
            Database::latestSchemaVersion());
}

TEST_F(DatabaseFile, CreateRefusesADamagedFileAndLeavesIt) {
  const std::string garbage(8192, 'x');
  write(garbage);
  const std::string msg = errorOf(OpenPurpose::Create);
  EXPECT_EQ(msg, "database " + file +
                     " is damaged or is not a buildmaster database (file is not a database). Restore it "
                     "from a backup, or move it away and run `buildmaster create-master " +
                     dir + "` to start this master afresh with an empty database.");
  EXPECT_EQ(read(), garbage);
}

TEST_F(DatabaseFile, UpgradeRefusesAMissingOrEmptyFile) {
  EXPECT_EQ(errorOf(OpenPurpose::Upgrade),
            "database " + file +
                " does not exist, so there is nothing to upgrade. If this master had history, restore "
                "the file from a backup; to start it afresh with an empty database, run `buildmaster "
                "create-master " + dir + "`.");
  EXPECT_FALSE(fs::exists(file));
  write("");
  EXPECT_NE(errorOf(OpenPurpose::Upgrade).find(" is empty (0 bytes)"), std::string::npos);
  EXPECT_EQ(fs::file_size(file), 0u);
}

TEST_F(DatabaseFile, UpgradeOpensAnOldSchemaForTheCallerToUpgrade) {
  makeAtVersion(3);
  auto db = openMasterDatabase(file, dir, OpenPurpose::Upgrade);
  EXPECT_EQ(db->schemaVersion(), 3);
}

TEST_F(DatabaseFile, StartRefusesAnOldSchemaAndLeavesItAlone) {
  makeAtVersion(3);
  EXPECT_EQ(errorOf(OpenPurpose::Start),
            "database " + file + " has schema version 3 but this buildmaster needs " +
                std::to_string(Database::latestSchemaVersion()) +
                ". Back the file up, then run `buildmaster upgrade-master " + dir + "`.");
  EXPECT_EQ(Database(file).schemaVersion(), 3);
}

TEST_F(DatabaseFile, StartRefusesANewerSchema) {
  makeAtVersion(Database::latestSchemaVersion());
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_close(raw), SQLITE_OK);
  }
  EXPECT_EQ(errorOf(OpenPurpose::Start),
            "database " + file + " has schema version 99, newer than this buildmaster supports (" +
                std::to_string(Database::latestSchemaVersion()) + "); use a newer buildmaster.");
}

TEST_F(DatabaseFile, StartRefusesADatabaseWithoutTheBuildmasterSchema) {
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE photos (id INTEGER PRIMARY KEY)", nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_close(raw), SQLITE_OK);
  }
  EXPECT_EQ(errorOf(OpenPurpose::Start),
            "database " + file +
                " holds no buildmaster schema, so it is not this master's database. Restore it from a "
                "backup, or move it away and run `buildmaster create-master " + dir +
                "` to start this master afresh with an empty database.");
}

TEST_F(DatabaseFile, StartOpensACurrentDatabase) {
  makeAtVersion(Database::latestSchemaVersion());
  EXPECT_EQ(openMasterDatabase(file, dir, OpenPurpose::Start)->schemaVersion(),
            Database::latestSchemaVersion());
}

}  // namespace
}  // namespace bb::db
