// The PostgreSQL engine (master/db/postgres_engine.cpp) on a real server:
// the cluster tests/pg_cluster.sh starts for the ctest run (the
// BB_TEST_DATABASE=postgresql:DIR environment names it). Each test has a
// database of its own.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "master/db/database.hpp"
#include "master/db/database_file.hpp"
#include "master/db/engine.hpp"
#include "master/db/statement.hpp"
#include "tests/unit/db_postgres/pg_test_cluster.hpp"

namespace bb::db {
namespace {

using pgtest::serverUrl;

// Runs `sql` as the cluster's superuser on database `db`; throws on error.
void admin(const std::string& db, const std::string& sql) { pgtest::adminAt(serverUrl() + "/" + db, sql); }

std::string freshDatabase() { return pgtest::freshDatabase("unit"); }

std::string errorOf(const std::function<void()>& f, DbErrorKind* kind = nullptr) {
  try {
    f();
  } catch (const DbError& e) {
    if (kind) *kind = e.kind();
    return e.what();
  }
  return "<no DbError>";
}

TEST(PostgresEngine, TypesBlobsAndNullsRoundTrip) {
  auto engine = openPostgresEngine(freshDatabase(), OpenMode::MustExist);
  EXPECT_STREQ(engine->dialect().name, "postgresql");
  engine->execScript(engine->dialect().expand(
                         "CREATE TABLE t (id {{ID}}, i BIGINT, s TEXT, b {{BLOB}}, flag INTEGER)"),
                     "creating t");
  const std::int64_t big = std::numeric_limits<std::int64_t>::max() - 7;
  std::string blob;
  for (int i = 0; i < 256; ++i) blob += static_cast<char>(i);  // every byte, NUL included
  const std::string text = "caf\xc3\xa9 'quoted' ?1 \"x\"";
  {
    auto ins = engine->prepare("INSERT INTO t (i, s, b, flag) VALUES (?1, ?2, ?3, ?4) RETURNING id", true);
    ins->bindInt(1, big);
    ins->bindText(2, text);
    ins->bindBlobNoCopy(3, blob.data(), blob.size());
    ins->bindInt(4, -1);
    ASSERT_TRUE(ins->step());
    EXPECT_EQ(ins->getInt(0), 1);
    EXPECT_FALSE(ins->step());
    ins->reset();
    ins->bindNull(1);
    ins->bindNull(2);
    ins->bindBlobNoCopy(3, "", 0);
    ins->bindInt(4, 0);
    ASSERT_TRUE(ins->step());
    EXPECT_EQ(ins->getInt(0), 2);
  }
  auto sel = engine->prepare("SELECT i, s, b, flag, i IS NULL FROM t ORDER BY id", false);
  ASSERT_TRUE(sel->step());
  EXPECT_EQ(sel->getInt(0), big);
  EXPECT_EQ(sel->getText(1), text);
  EXPECT_EQ(sel->getBlob(2), blob);
  EXPECT_EQ(sel->getInt(3), -1);
  EXPECT_EQ(sel->getInt(4), 0);  // a boolean reads as 0/1
  EXPECT_FALSE(sel->isNull(0));
  ASSERT_TRUE(sel->step());
  EXPECT_TRUE(sel->isNull(0));
  EXPECT_EQ(sel->getInt(0), 0);
  EXPECT_EQ(sel->getText(1), "");
  EXPECT_EQ(sel->getBlob(2), "");
  EXPECT_EQ(sel->getInt(4), 1);
  EXPECT_FALSE(sel->step());
}

TEST(PostgresEngine, OnConflictAndChangesCount) {
  auto engine = openPostgresEngine(freshDatabase(), OpenMode::MustExist);
  engine->execScript("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)", "creating kv");
  auto up = engine->prepare(
      "INSERT INTO kv (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", true);
  for (int v : {1, 2}) {
    up->bindText(1, "a");
    up->bindInt(2, v);
    EXPECT_FALSE(up->step());
    EXPECT_EQ(up->changes(), 1);
    up->reset();
  }
  auto skip = engine->prepare("INSERT INTO kv (k, v) VALUES (?1, 9) ON CONFLICT DO NOTHING", true);
  skip->bindText(1, "a");
  EXPECT_FALSE(skip->step());
  EXPECT_EQ(skip->changes(), 0);
  auto get = engine->prepare("SELECT v, sum(v) OVER () FROM kv WHERE k = ?1", true);
  get->bindText(1, "a");
  ASSERT_TRUE(get->step());
  EXPECT_EQ(get->getInt(0), 2);
  EXPECT_EQ(get->getInt(1), 2);  // sum() of BIGINT is numeric: read as an integer
}

TEST(PostgresEngine, FailuresHaveTheirKinds) {
  const std::string url = freshDatabase();
  Database db(url);
  db.upgrade();
  BuildsetRecord bs;
  const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
  const auto build = db.addBuild(db.registerMaster("m", 1), brid, "a", "s", 1, Json::object());
  db.addStep(build.id, 1, "compile", 1);
  DbErrorKind kind = DbErrorKind::Other;
  std::string msg = errorOf([&] { db.addStep(build.id, 1, "compile", 2); }, &kind);
  EXPECT_EQ(kind, DbErrorKind::Constraint) << msg;
  EXPECT_NE(msg.find("INSERT INTO steps"), std::string::npos) << msg;
  EXPECT_NE(msg.find("23505"), std::string::npos) << msg;  // unique_violation
  // The statement (and a transaction after a failed one) work again.
  EXPECT_GT(db.addStep(build.id, 2, "test", 3), 0);
  msg = errorOf([&] { db.transaction([&] { db.addStep(build.id, 2, "again", 3); }); }, &kind);
  EXPECT_EQ(kind, DbErrorKind::Constraint) << msg;
  EXPECT_GT(db.addStep(build.id, 3, "package", 4), 0);

  msg = errorOf([&] { Database("postgresql://bb@127.0.0.1:1/nothing"); }, &kind);
  EXPECT_EQ(kind, DbErrorKind::ConnectionLost) << msg;
  EXPECT_NE(msg.find("cannot connect to database postgresql://bb@127.0.0.1:1/nothing"),
            std::string::npos) << msg;
  msg = errorOf([&] { Database(serverUrl() + "/no_such_database"); }, &kind);
  EXPECT_NE(msg.find("no_such_database\" does not exist"), std::string::npos) << msg;
}

TEST(PostgresEngine, ALostConnectionFailsItsStatementAndTheNextOneReconnects) {
  const std::string url = freshDatabase();
  Database db(url);
  db.upgrade();
  db.setState("o", "k", Json(1));
  const std::string name = url.substr(url.rfind('/') + 1);
  // The server ends every session on this database (an administrator's
  // pg_terminate_backend, or a server restart).
  admin("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                        name + "' AND pid <> pg_backend_pid()");
  DbErrorKind kind = DbErrorKind::Other;
  const std::string msg = errorOf([&] { db.setState("o", "k", Json(2)); }, &kind);
  EXPECT_EQ(kind, DbErrorKind::ConnectionLost) << msg;
  // The next call reconnects and prepares its statements again.
  db.setState("o", "k", Json(3));
  EXPECT_EQ(db.getState("o", "k").value_or(Json()), Json(3));
}

TEST(PostgresEngine, CreateAndUpgradeGiveTheLatestSchema) {
  const std::string url = freshDatabase();
  {
    Database db(url);
    EXPECT_EQ(db.schemaVersion(), 0);
    db.upgradeTo(3);
    EXPECT_EQ(db.schemaVersion(), 3);
  }
  auto db = openMasterDatabase(url, "/srv/master", OpenPurpose::Upgrade);
  db->upgrade();
  EXPECT_EQ(db->schemaVersion(), Database::latestSchemaVersion());
  EXPECT_EQ(openMasterDatabase(url, "/srv/master", OpenPurpose::Start)->schemaVersion(),
            Database::latestSchemaVersion());
  const std::string empty = freshDatabase();
  const std::string msg = errorOf([&] { openMasterDatabase(empty, "/srv/master", OpenPurpose::Start); });
  EXPECT_NE(msg.find("holds no buildmaster schema"), std::string::npos) << msg;
  EXPECT_NE(msg.find("buildmaster create-master /srv/master"), std::string::npos) << msg;
}

// Database::getChange reads a change, its files and its properties in one
// statement (a UNION of three kinds of rows): the same record on
// PostgreSQL as was stored, files in their order past ten of them.
TEST(PostgresEngine, AChangeIsReadBackWithItsFilesInOrderAndItsProperties) {
  Database db(freshDatabase());
  db.upgrade();
  ChangeRecord in;
  in.author = "alice <alice@example.org>";
  in.comments = "line one\nline two";
  in.branch = "main";
  in.revision = "abc123";
  in.repository = "/srv/git/app.git";
  in.project = "app";
  in.category = "bugfix";
  in.source = "sendchange";
  in.when = 1700000000;
  for (int i = 12; i > 0; --i) in.files.push_back("src/f" + std::to_string(i) + ".cpp");
  in.properties = {{"owner", "alice"}, {"count", 3}, {"nested", {{"x", {1, 2}}}}};
  const std::int64_t id = db.addChange(in);
  ChangeRecord bare;
  bare.revision = "def456";
  const std::int64_t bareId = db.addChange(bare);

  const auto out = db.getChange(id);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->id, id);
  EXPECT_EQ(out->author, in.author);
  EXPECT_EQ(out->comments, in.comments);
  EXPECT_EQ(out->branch, in.branch);
  EXPECT_EQ(out->revision, in.revision);
  EXPECT_EQ(out->repository, in.repository);
  EXPECT_EQ(out->project, in.project);
  EXPECT_EQ(out->category, in.category);
  EXPECT_EQ(out->source, in.source);
  EXPECT_EQ(out->when, in.when);
  EXPECT_EQ(out->files, in.files);
  EXPECT_EQ(out->properties, in.properties);
  const auto b = db.getChange(bareId);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->revision, "def456");
  EXPECT_TRUE(b->files.empty());
  EXPECT_EQ(b->properties, Json::object());
  EXPECT_FALSE(db.getChange(bareId + 100).has_value());
}

}  // namespace
}  // namespace bb::db
