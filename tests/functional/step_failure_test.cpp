// A build that fails while a step's command runs on the slave (its output
// cannot be stored) ends EXCEPTION at once; when the interrupted command
// reports its end later, the build does not run its step end again nor
// start the next step.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include "common/results.hpp"
#include "tests/functional/harness.hpp"
#include "tests/functional/test_database.hpp"

namespace bb::test {
namespace {

// Runs `sql` on a connection of its own, as an operator's sqlite3 (or
// psql) would.
void exec(const std::string& dbPath, const std::string& sql) {
  if (postgresMode()) {
    sqlite(dbPath, sql);
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dbPath.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

TEST(StepFailure, ACommandEndingAfterItsBuildFailedStartsNoFurtherStep) {
  TempDir tmp;
  const std::string v = makeVerifier("pw");
  MasterProcess master{tmp.sub("master")};
  master.create();
  master.writeConfig(
      "master: {name: sf, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + "}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
      "builders:\n"
      "  - name: b\n"
      "    slaves: [s1]\n"
      "    steps:\n"
      "      - {shell: {name: talk, halt_on_failure: false, command: \"i=0; while [ $i -lt 600 ]; do echo line $i; "
      "i=$((i+1)); sleep 0.05; done\"}}\n"
      "      - {shell: {name: after, command: \"echo after\"}}\n"
      "schedulers: [{name: force, type: force, builders: [b]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  // Output is being stored: then storing it starts to fail.
  ASSERT_TRUE(waitFor([&] {
    return std::stoi(sqlite(master.dbPath(), "SELECT count(*) FROM log_chunks")[0][0]) > 0;
  }, 60s)) << master.log();
  exec(master.dbPath(),
       postgresMode()
           ? "CREATE FUNCTION no_output() RETURNS trigger LANGUAGE plpgsql AS"
             " $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$;"
             "CREATE TRIGGER no_output BEFORE INSERT ON log_chunks FOR EACH ROW EXECUTE FUNCTION no_output();"
           : "CREATE TRIGGER no_output BEFORE INSERT ON log_chunks BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;");
  ASSERT_TRUE(master.waitForLog("its interrupted command ended after the build ended", 60s))
      << master.log();
  const auto build = sqlite(master.dbPath(), "SELECT finished, result, text FROM builds");
  ASSERT_EQ(build.size(), 1u);
  EXPECT_EQ(build[0][0], "1");
  EXPECT_EQ(build[0][1], std::to_string(static_cast<int>(Result::Exception)));
  EXPECT_NE(build[0][2].find("disk on fire"), std::string::npos) << build[0][2];
  const auto steps = sqlite(master.dbPath(), "SELECT number, name, finished FROM steps ORDER BY number");
  ASSERT_EQ(steps.size(), 1u) << "the second step must not start after the build ended";
  EXPECT_EQ(steps[0][1], "talk");
  EXPECT_EQ(steps[0][2], "1");
  EXPECT_TRUE(master.running());
}

}  // namespace
}  // namespace bb::test
