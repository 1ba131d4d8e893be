// Big log chunks in files beside the database (master/db/log_files.hpp):
// where they go, how they read back with the chunks kept in the database,
// what a failed or interrupted write leaves, and that deleting logs
// deletes their files.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

namespace fs = std::filesystem;

// Bytes zstd cannot shrink: each such 64 KiB chunk stays ~64 KiB stored.
std::string noise(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class LogFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bb_log_files_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    path = (dir / "state.sqlite").string();
    open();
    db->upgrade();
    master = db->registerMaster("m", 1);
    std::tie(buildId, logId) = addBuildWithLog("a", 10);
  }
  void TearDown() override {
    db.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void open() { db = std::make_unique<Database>(path); }

  // A build of `builder`, claimed and running, with one step and its log.
  std::pair<std::int64_t, std::int64_t> addBuildWithLog(const std::string& builder, std::int64_t at) {
    BuildsetRecord bs;
    bs.submittedAt = at;
    const auto brid = db->addBuildset(bs, {builder}, 0).second.at(builder);
    EXPECT_TRUE(db->claimRequest(brid, master, at));
    const auto b = db->addBuild(master, brid, builder, "s", at, Json::object());
    requests[b.id] = brid;
    return {b.id, db->addLog(db->addStep(b.id, 1, "shell", at), "stdio")};
  }
  void finish(std::int64_t build, std::int64_t at) {
    db->finishBuild(build, Result::Success, "ok", at);
    db->completeRequest(requests.at(build), Result::Success, at);
  }

  std::string fileOf(std::int64_t log) const {
    return (fs::path(path + ".logs") / (std::to_string(log) + ".log")).string();
  }
  // (raw_size, file_offset or -1, file_bytes or -1, length(compressed)) per chunk.
  struct Row {
    std::int64_t raw, offset, fileBytes, blob;
  };
  std::vector<Row> rows(std::int64_t log) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw,
                                 "SELECT raw_size, coalesce(file_offset, -1), coalesce(file_bytes, -1),"
                                 " length(compressed) FROM log_chunks WHERE log_id = ?1 ORDER BY seq",
                                 -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, log);
    std::vector<Row> out;
    while (sqlite3_step(st) == SQLITE_ROW)
      out.push_back({sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                     sqlite3_column_int64(st, 3)});
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return out;
  }
  std::string readAll(std::int64_t log, std::int64_t from = 0) {
    std::string out;
    db->readLogFrom(log, from, [&](int, std::string_view d) {
      out.append(d);
      return true;
    });
    return out;
  }

  fs::path dir;
  std::string path;
  std::unique_ptr<Database> db;
  MasterId master{};
  std::int64_t buildId = 0, logId = 0;
  std::map<std::int64_t, std::int64_t> requests;
};

TEST_F(LogFiles, BigChunksGoToTheLogsFileAndReadBackInOrderWithTheSmallOnes) {
  EXPECT_EQ(db->logFilesDir(), path + ".logs");
  std::string written;
  auto add = [&](int stream, const std::string& data) {
    db->appendLog(logId, stream, data);
    written += data;
  };
  add(2, "$ spew\n");
  add(0, noise(64 * 1024, 1));
  add(0, noise(64 * 1024, 2));
  add(1, "a short line on stderr\n");
  add(0, std::string(200 * 1024, 'x'));  // compresses to a few hundred bytes
  add(0, noise(100 * 1024, 3) + "\nthe last line\n");

  const auto r = rows(logId);
  ASSERT_EQ(r.size(), 6u);
  // Small or well-compressed chunks keep their bytes in the row; the big
  // ones point into the file, one after the other.
  for (int i : {0, 3, 4}) {
    EXPECT_EQ(r[i].offset, -1) << i;
    EXPECT_GT(r[i].blob, 0) << i;
  }
  std::int64_t at = 0;
  for (int i : {1, 2, 5}) {
    EXPECT_EQ(r[i].offset, at) << i;
    EXPECT_GE(r[i].fileBytes, r[i].raw) << i;  // noise does not shrink
    EXPECT_EQ(r[i].blob, 0) << i;
    at += r[i].fileBytes;
  }
  ASSERT_TRUE(fs::exists(fileOf(logId)));
  EXPECT_EQ(static_cast<std::int64_t>(fs::file_size(fileOf(logId))), at);

  // Every way of reading gives the same bytes.
  EXPECT_EQ(readAll(logId), written);
  const std::int64_t mid = 7 + 64 * 1024 + 1000;
  EXPECT_EQ(readAll(logId, mid), written.substr(mid));
  std::string byChunk;
  std::vector<int> streams;
  for (std::int64_t seq = -1;;) {
    const auto next = db->readLogChunkAfter(logId, seq, [&](int stream, std::string_view d) {
      byChunk.append(d);
      streams.push_back(stream);
    });
    if (!next) break;
    seq = *next;
  }
  EXPECT_EQ(byChunk, written);
  EXPECT_EQ(streams, (std::vector<int>{2, 0, 0, 1, 0, 0}));
  EXPECT_EQ(db->readLogTail(logId, 1), "the last line\n");

  // Another Database on the same file (a second reader) reads it too.
  Database reader(path, OpenMode::MustExist);
  std::string again;
  reader.readLog(logId, [&](int, std::string_view d) {
    again.append(d);
    return true;
  });
  EXPECT_EQ(again, written);
}

TEST_F(LogFiles, AChunkWhoseRowIsRefusedLeavesNothingInTheFile) {
  db->appendLog(logId, 0, noise(64 * 1024, 1));
  const auto size = fs::file_size(fileOf(logId));
  db->finishLog(logId);
  EXPECT_THROW(db->appendLog(logId, 0, noise(64 * 1024, 2)), DbError);
  EXPECT_EQ(fs::file_size(fileOf(logId)), size);
  // A log that does not exist gets no file at all.
  EXPECT_THROW(db->appendLog(987654, 0, noise(64 * 1024, 3)), DbError);
  EXPECT_FALSE(fs::exists(fileOf(987654)));
  EXPECT_EQ(readAll(logId), noise(64 * 1024, 1));
}

TEST_F(LogFiles, BytesPastTheLastStoredChunkAreCutOffWhenTheLogIsWrittenAgain) {
  db->appendLog(logId, 0, noise(64 * 1024, 1));
  db.reset();  // the master dies...
  {
    // ...after writing a chunk to the file but before storing its row.
    std::ofstream f(fileOf(logId), std::ios::app | std::ios::binary);
    f << noise(30000, 9);
  }
  open();
  db->appendLog(logId, 0, noise(64 * 1024, 2));
  const auto r = rows(logId);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].offset, r[0].fileBytes);
  EXPECT_EQ(static_cast<std::int64_t>(fs::file_size(fileOf(logId))), r[0].fileBytes + r[1].fileBytes);
  EXPECT_EQ(readAll(logId), noise(64 * 1024, 1) + noise(64 * 1024, 2));
}

TEST_F(LogFiles, RemovingLogsOrDeletingBuildsDeletesTheirFiles) {
  db->appendLog(logId, 0, noise(64 * 1024, 1));
  db->finishLog(logId);
  finish(buildId, 20);
  const auto [newer, newerLog] = addBuildWithLog("a", 30);
  db->appendLog(newerLog, 0, noise(64 * 1024, 2));
  db->finishLog(newerLog);
  finish(newer, 40);
  ASSERT_TRUE(fs::exists(fileOf(logId)));

  // Retention drops the text of a build's logs: the file goes, the rows stay.
  EXPECT_GT(db->removeBuildLogs(buildId, 50, "keep 1"), 0);
  EXPECT_FALSE(fs::exists(fileOf(logId)));
  EXPECT_TRUE(db->getLog(logId).has_value());
  EXPECT_TRUE(fs::exists(fileOf(newerLog)));

  // A second builder's old build, deleted by cleanupdb with its log file;
  // the newest build of each builder stays, with its file.
  const auto [old, oldLog] = addBuildWithLog("b", 5);
  db->appendLog(oldLog, 0, noise(64 * 1024, 3));
  db->finishLog(oldLog);
  finish(old, 6);
  const auto [newest, newestLog] = addBuildWithLog("b", 60);
  finish(newest, 61);
  ASSERT_TRUE(fs::exists(fileOf(oldLog)));
  const CleanupCounts c = db->deleteHistoryBefore(35);
  EXPECT_EQ(c.builds, 2);  // a's first build and b's old one
  EXPECT_FALSE(fs::exists(fileOf(oldLog)));
  EXPECT_TRUE(fs::exists(fileOf(newerLog)));
  EXPECT_EQ(readAll(newerLog), noise(64 * 1024, 2));
}

TEST_F(LogFiles, AMissingOrShortFileIsReportedAsDamageNamingTheFile) {
  db->appendLog(logId, 0, "small\n");
  db->appendLog(logId, 0, noise(64 * 1024, 1));
  fs::resize_file(fileOf(logId), 1000);
  try {
    readAll(logId);
    ADD_FAILURE() << "a short file read back";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), DbErrorKind::Corrupt) << e.what();
    EXPECT_NE(std::string(e.what()).find(fileOf(logId) + " ends at byte 1000"), std::string::npos) << e.what();
  }
  fs::remove(fileOf(logId));
  try {
    readAll(logId);
    ADD_FAILURE() << "a missing file read back";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), DbErrorKind::Corrupt) << e.what();
    EXPECT_NE(std::string(e.what()).find("its file " + fileOf(logId) + " cannot be opened"), std::string::npos)
        << e.what();
  }
  // What is in the database still reads: the first chunk, then the error.
  std::string first;
  EXPECT_THROW(db->readLog(logId,
                           [&](int, std::string_view d) {
                             first.append(d);
                             return true;
                           }),
               DbError);
  EXPECT_EQ(first, "small\n");
}

TEST(LogFilesInMemory, ADatabaseInMemoryKeepsEveryChunkInItself) {
  Database db(":memory:");
  db.upgrade();
  EXPECT_EQ(db.logFilesDir(), "");
  const auto build = db.addBuild(db.registerMaster("m", 1), 0, "b", "s", 1, Json::object()).id;
  const auto log = db.addLog(db.addStep(build, 1, "x", 1), "stdio");
  db.appendLog(log, 0, noise(64 * 1024, 1));
  std::string back;
  db.readLog(log, [&](int, std::string_view d) {
    back.append(d);
    return true;
  });
  EXPECT_EQ(back, noise(64 * 1024, 1));
}

}  // namespace
}  // namespace bb::db
