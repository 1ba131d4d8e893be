// Statements sent ahead (master/db/postgres_engine.cpp, pipeline mode): a
// transaction's writes whose answers nobody reads go to the server with the
// next statement that waits, so the transaction costs one round trip per
// waited-for statement instead of one per statement; and what fails among
// them still fails the transaction, whole, with the failing statement named.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "master/db/database.hpp"
#include "master/db/engine.hpp"
#include "tests/unit/db_postgres/pg_test_cluster.hpp"

namespace bb::db {
namespace {

using pgtest::serverUrl;

std::string pipelineDatabase() { return pgtest::freshDatabase("pipe"); }

// What a second session sees (committed data only).
std::string committedState(const std::string& url, const std::string& key) {
  Database other(url);
  const auto v = other.getState("o", key);
  return v ? v->dump() : "none";
}

Database::Traffic since(const Database::Traffic& before, const Database::Traffic& now) {
  return {now.statements - before.statements, now.sentAhead - before.sentAhead,
          now.roundTrips - before.roundTrips};
}

TEST(PgPipeline, ATransactionOfWritesCostsOneRoundTrip) {
  const std::string url = pipelineDatabase();
  Database db(url);
  db.upgrade();
  auto t0 = db.traffic();
  db.transaction([&] {
    db.setState("o", "a", Json(1));
    db.setState("o", "b", Json(2));
    db.deleteState("o", "a");
  });
  auto t = since(t0, db.traffic());
  // BEGIN, three writes and COMMIT; all but the COMMIT sent ahead of it.
  EXPECT_EQ(t.statements, 5u);
  EXPECT_EQ(t.sentAhead, 4u);
  EXPECT_EQ(t.roundTrips, 1u);
  EXPECT_EQ(committedState(url, "a"), "none");
  EXPECT_EQ(committedState(url, "b"), "2");

  // A read in the transaction waits, and sees the writes sent before it.
  t0 = db.traffic();
  db.transaction([&] {
    db.setState("o", "c", Json(3));
    EXPECT_EQ(db.getState("o", "c").value_or(Json()), Json(3));
    db.setState("o", "c", Json(4));
  });
  t = since(t0, db.traffic());
  EXPECT_EQ(t.roundTrips, 2u);  // the read, then the rest with the COMMIT
  EXPECT_EQ(committedState(url, "c"), "4");

  // Outside a transaction each statement is its own round trip.
  t0 = db.traffic();
  db.setState("o", "d", Json(5));
  t = since(t0, db.traffic());
  EXPECT_EQ(t.statements, 1u);
  EXPECT_EQ(t.sentAhead, 0u);
  EXPECT_EQ(t.roundTrips, 1u);
}

TEST(PgPipeline, AFailureSentAheadFailsTheWholeTransactionNamingItsStatement) {
  const std::string url = pipelineDatabase();
  auto engine = openPostgresEngine(url, OpenMode::MustExist);
  engine->execScript("CREATE TABLE u (k TEXT PRIMARY KEY)", "creating u");
  auto run = [&](const char* sql, const std::string& k = {}) {
    auto s = engine->prepare(sql, true);
    if (!k.empty()) s->bindText(1, k);
    s->sendAhead({});
  };
  run("BEGIN");
  run("INSERT INTO u (k) VALUES (?1)", "x");
  run("INSERT INTO u (k) VALUES (?1)", "x");  // a unique violation, not yet known
  // A statement first prepared after the failure: its PREPARE is aborted.
  auto later = engine->prepare("INSERT INTO u (k) VALUES (?1) ON CONFLICT DO NOTHING", true);
  later->bindText(1, "y");
  later->sendAhead({});
  auto commit = engine->prepare("COMMIT", true);
  std::string msg;
  DbErrorKind kind = DbErrorKind::Other;
  try {
    commit->step();
  } catch (const DbError& e) {
    msg = e.what();
    kind = e.kind();
  }
  EXPECT_EQ(kind, DbErrorKind::Constraint) << msg;
  EXPECT_NE(msg.find("INSERT INTO u (k) VALUES (?1)` (sent ahead of `COMMIT`)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("23505"), std::string::npos) << msg;
  // Nothing of it committed; the transaction is open in error until rolled back.
  EXPECT_TRUE(engine->inTransaction());
  auto rollback = engine->prepare("ROLLBACK", false);
  EXPECT_FALSE(rollback->step());
  EXPECT_FALSE(engine->inTransaction());
  auto count = engine->prepare("SELECT count(*) FROM u", false);
  ASSERT_TRUE(count->step());
  EXPECT_EQ(count->getInt(0), 0);
  // The statement whose PREPARE was aborted is prepared again when used.
  later->reset();
  later->bindText(1, "y");
  EXPECT_FALSE(later->step());
  EXPECT_EQ(later->changes(), 1);
}

TEST(PgPipeline, TheDatabaseRollsBackWhatWasSentAheadWhenTheTransactionThrows) {
  const std::string url = pipelineDatabase();
  Database db(url);
  db.upgrade();
  // A C++ failure after writes were sent: rolled back, none committed.
  EXPECT_THROW(db.transaction([&] {
                 db.setState("o", "a", Json(1));
                 throw std::runtime_error("the caller changed its mind");
               }),
               std::runtime_error);
  EXPECT_EQ(db.transactionDepth(), 0);
  EXPECT_EQ(committedState(url, "a"), "none");
  // A write that must change one row and changes none fails the
  // transaction at its next wait, with the caller's message.
  std::string msg;
  try {
    db.transaction([&] {
      db.setState("o", "b", Json(2));
      db.finishStep(424242, Result::Success, "", 1);
      (void)db.getState("o", "b");
    });
  } catch (const DbError& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("finishStep: no step with id 424242"), std::string::npos) << msg;
  EXPECT_EQ(committedState(url, "b"), "none");
  // Nested levels: an inner failure undoes the inner level only.
  db.transaction([&] {
    db.setState("o", "outer", Json(1));
    try {
      db.transaction([&] {
        db.setState("o", "inner", Json(1));
        throw std::runtime_error("inner");
      });
    } catch (const std::runtime_error&) {
    }
  });
  EXPECT_EQ(committedState(url, "outer"), "1");
  EXPECT_EQ(committedState(url, "inner"), "none");
  // And the connection goes on as before.
  db.transaction([&] { db.setState("o", "c", Json(3)); });
  EXPECT_EQ(committedState(url, "c"), "3");
}

TEST(PgPipeline, AConnectionLostWithWritesSentAheadFailsTheTransactionAndTheNextOneReconnects) {
  const std::string url = pipelineDatabase();
  Database db(url);
  db.upgrade();
  const std::string name = url.substr(url.rfind('/') + 1);
  DbErrorKind kind = DbErrorKind::Other;
  std::string msg;
  try {
    db.transaction([&] {
      db.setState("o", "a", Json(1));
      pgtest::adminAt(serverUrl() + "/postgres",
                      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name +
                          "' AND pid <> pg_backend_pid()");
      db.setState("o", "b", Json(2));
    });
  } catch (const DbError& e) {
    msg = e.what();
    kind = e.kind();
  }
  EXPECT_EQ(kind, DbErrorKind::ConnectionLost) << msg;
  EXPECT_EQ(db.transactionDepth(), 0);
  db.transaction([&] { db.setState("o", "c", Json(3)); });
  EXPECT_EQ(committedState(url, "a"), "none");
  EXPECT_EQ(committedState(url, "b"), "none");
  EXPECT_EQ(committedState(url, "c"), "3");
}

}  // namespace
}  // namespace bb::db
