// A master's database file that is missing, empty, not a database or
// truncated: `buildmaster start` refuses it, says which file, what is wrong
// and what to do, and leaves the file as it was. Only `create-master`
// creates a database.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "master/db/database.hpp"
#include "tests/functional/harness.hpp"
#include "tests/functional/test_database.hpp"

namespace bb::test {
namespace {

namespace fs = std::filesystem;

class DatabaseFile : public ::testing::Test {
 protected:
  void SetUp() override {
    master.create();
    master.writeConfig(basicMasterYaml(master.port(), verifier(), verifier()));
    master.setAuth("alice", "pw");
  }

  // `buildmaster start DIR` as a user runs it (daemonized). A start that
  // wrongly succeeded is stopped again so the test can report it.
  CmdResult startDaemon() {
    CmdResult r = master.admin({"start", master.dir()});
    if (r.rc == 0) master.admin({"stop", master.dir()});
    return r;
  }

  std::string advice(const std::string& what) const {
    return "buildmaster: database " + master.dbPath() + " " + what + ". Restore it from a backup, or move it away and run `buildmaster create-master " + master.dir() + "` to start this master afresh with an empty database.\n";
  }

  TempDir tmp;
  MasterProcess master{tmp.sub("master")};
};

TEST_F(DatabaseFile, StartRefusesAnEmptyFileAndCreateMasterStartsAfresh) {
  writeFile(master.dbPath(), "");
  const CmdResult r = startDaemon();
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_EQ(r.err, "buildmaster: database " + master.dbPath() +
                       " is empty (0 bytes): it holds no schema and no history, so it was truncated or never "
                       "set up. Restore it from a backup, or run `buildmaster create-master " +
                       master.dir() + "` to start this master afresh with an empty database.\n")
      << r.describe();
  EXPECT_EQ(fs::file_size(master.dbPath()), 0u) << "a refused start leaves the file alone";

  // The explicit way to start afresh.
  const CmdResult created = master.admin({"create-master", master.dir()});
  ASSERT_EQ(created.rc, 0) << created.describe();
  master.start();
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT count(*) FROM changes")[0][0], "0");
}

TEST_F(DatabaseFile, StartRefusesAFileOfGarbage) {
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not a database\n";
  writeFile(master.dbPath(), garbage);
  const CmdResult r = startDaemon();
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_EQ(r.err, advice("is damaged or is not a buildmaster database (file is not a database)"))
      << r.describe();
  EXPECT_EQ(readFile(master.dbPath()), garbage) << "a refused start leaves the file alone";
  // create-master does not overwrite it either.
  const CmdResult created = master.admin({"create-master", master.dir()});
  EXPECT_EQ(created.rc, 1) << created.describe();
  EXPECT_EQ(readFile(master.dbPath()), garbage);
}

TEST_F(DatabaseFile, StartRefusesATruncatedDatabase) {
  // A real database with history, stopped cleanly (its WAL checkpointed).
  master.start();
  for (int i = 0; i < 20; ++i) {
    const CmdResult sc = master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision",
                                        "rev" + std::to_string(i), "file" + std::to_string(i) + ".c"});
    ASSERT_EQ(sc.rc, 0) << sc.describe();
  }
  ASSERT_EQ(master.stop(), 0) << master.log();
  ASSERT_FALSE(fileExists(master.dbPath() + "-wal")) << "the WAL is checkpointed at a clean stop";
  const auto full = fs::file_size(master.dbPath());
  fs::resize_file(master.dbPath(), full / 2);

  const CmdResult r = startDaemon();
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_EQ(r.err, advice("is damaged or is not a buildmaster database (database disk image is malformed)"))
      << r.describe();
  EXPECT_EQ(fs::file_size(master.dbPath()), full / 2) << "a refused start leaves the file alone";
}

TEST_F(DatabaseFile, StartRefusesAMissingFile) {
  fs::remove(master.dbPath());
  const CmdResult r = startDaemon();
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_EQ(r.err, "buildmaster: database " + master.dbPath() +
                       " does not exist. If this master had history, restore the file from a backup; to "
                       "start it afresh with an empty database, run `buildmaster create-master " +
                       master.dir() + "`.\n")
      << r.describe();
  EXPECT_FALSE(fileExists(master.dbPath())) << "start does not create a database";
}

// Writes with a raw connection, as an older buildmaster did.
void rawExec(const std::string& file, const std::string& sql) {
  if (postgresMode()) {
    sqlite(file, sql);
    return;
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  ASSERT_EQ(sqlite3_close(raw), SQLITE_OK);
}

TEST_F(DatabaseFile, UpgradeMasterKeepsTheRowsOfAnOldDatabaseAndStartRecoversThem) {
  // A version-3 database (before masters had identities) whose master died
  // while building: a claimed request with an unfinished build.
  if (postgresMode()) sqlite(master.dbPath(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
  else fs::remove(master.dbPath());
  db::Database(master.dbPath()).upgradeTo(3);
  rawExec(master.dbPath(),
          "INSERT INTO changes (author, comments, branch, revision, repository, project, category,"
          " source, when_at) VALUES ('dev', 'old change', 'main', 'abc', '', '', '', 'sendchange', 5);"
          "INSERT INTO buildsets (reason, scheduler, ss_repository, ss_branch, ss_revision, ss_project,"
          " properties, submitted_at) VALUES ('old', 'all', '', 'main', 'abc', '', '{}', 5);"
          "INSERT INTO buildset_changes (buildset_id, seq, change_id) VALUES (1, 0, 1);"
          "INSERT INTO buildrequests (buildset_id, builder, submitted_at, claimed, claimed_at)"
          " VALUES (1, 'b1', 5, 1, 6);"
          "INSERT INTO builds (request_id, builder, number, slave, started_at) VALUES (1, 'b1', 1, 's1', 6);");

  const CmdResult refused = startDaemon();
  EXPECT_EQ(refused.rc, 1) << refused.describe();
  EXPECT_EQ(refused.err, "buildmaster: database " + master.dbPath() + " has schema version 3 but this buildmaster needs " +
                             std::to_string(db::Database::latestSchemaVersion()) +
                             ". Back the file up, then run `buildmaster upgrade-master " + master.dir() + "`.\n")
      << refused.describe();

  const CmdResult upgraded = master.admin({"upgrade-master", master.dir()});
  ASSERT_EQ(upgraded.rc, 0) << upgraded.describe();
  EXPECT_EQ(upgraded.out, "database upgraded from schema version 3 to " +
                              std::to_string(db::Database::latestSchemaVersion()) + "\n");

  // The master adopts the work left from before identities and recovers it.
  master.start();
  ASSERT_TRUE(master.waitForLog("1 build(s) marked retry, 1 request(s) back in the queue")) << master.log();
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT comments FROM changes")[0][0], "old change");
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT finished, result FROM builds WHERE number = 1")[0],
            (std::vector<std::string>{"1", "5"}))
      << "the interrupted build is RETRY";
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT claimed, claimed_by, complete FROM buildrequests")[0],
            (std::vector<std::string>{"0", "NULL", "0"}))
      << "its request waits for a slave again";
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT name, active FROM masters")[0], (std::vector<std::string>{"t", "1"}));
  ASSERT_EQ(master.stop(), 0);
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT active FROM masters WHERE name = 't'")[0][0], "0")
      << "a clean stop is recorded";
}

}  // namespace
}  // namespace bb::test
