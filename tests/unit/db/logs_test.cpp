// Logs: compressed chunks, streams, chunk-by-chunk reads.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class Logs : public ::testing::Test {
 protected:
  void SetUp() override {
    db.upgrade();
    BuildsetRecord bs;
    const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
    const auto build = db.addBuild(db.registerMaster("m", 1), brid, "a", "s", 1, Json::object());
    stepId = db.addStep(build.id, 1, "shell", 1);
  }

  struct Chunk {
    int stream;
    std::string data;
  };
  std::vector<Chunk> readAll(std::int64_t logId) {
    std::vector<Chunk> out;
    db.readLog(logId, [&](int stream, std::string_view data) {
      out.push_back({stream, std::string(data)});
      return true;
    });
    return out;
  }

  Database db{":memory:"};
  std::int64_t stepId = 0;
};

TEST_F(Logs, AddAppendFinish) {
  const auto stdio = db.addLog(stepId, "stdio");
  const auto other = db.addLog(stepId, "test.log");
  db.appendLog(stdio, 2, "$ make\n");
  db.appendLog(stdio, 0, "compiling\n");
  db.appendLog(stdio, 1, "warning: x\n");
  db.appendLog(stdio, 0, "");  // stores nothing
  db.finishLog(stdio);

  const auto log = db.getLog(stdio);
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->stepId, stepId);
  EXPECT_EQ(log->name, "stdio");
  EXPECT_TRUE(log->finished);
  EXPECT_EQ(log->chunks, 3);
  EXPECT_EQ(log->bytes, 7 + 10 + 11);

  const auto logs = db.logsForStep(stepId);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].id, stdio);
  EXPECT_EQ(logs[1].id, other);
  EXPECT_FALSE(logs[1].finished);

  const auto chunks = readAll(stdio);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].stream, 2);
  EXPECT_EQ(chunks[0].data, "$ make\n");
  EXPECT_EQ(chunks[1].stream, 0);
  EXPECT_EQ(chunks[1].data, "compiling\n");
  EXPECT_EQ(chunks[2].stream, 1);
  EXPECT_EQ(chunks[2].data, "warning: x\n");
  EXPECT_TRUE(readAll(other).empty());
}

TEST_F(Logs, AppendToFinishedOrUnknownLogFails) {
  const auto id = db.addLog(stepId, "stdio");
  db.finishLog(id);
  EXPECT_THROW(db.appendLog(id, 0, "late"), DbError);
  EXPECT_THROW(db.appendLog(99999, 0, "x"), DbError);
  EXPECT_THROW(db.finishLog(99999), DbError);
  EXPECT_EQ(db.getLog(id)->chunks, 0);
  EXPECT_EQ(db.transactionDepth(), 0);
}

TEST_F(Logs, BadStreamIsRejected) {
  const auto id = db.addLog(stepId, "stdio");
  EXPECT_THROW(db.appendLog(id, 3, "x"), std::invalid_argument);
  EXPECT_THROW(db.appendLog(id, -1, "x"), std::invalid_argument);
}

TEST_F(Logs, DuplicateLogNameInStepFails) {
  db.addLog(stepId, "stdio");
  EXPECT_THROW(db.addLog(stepId, "stdio"), DbError);
}

TEST_F(Logs, FiveMegabyteLogReadBackChunkByChunk) {
  const auto id = db.addLog(stepId, "stdio");
  // Mix compressible text with incompressible random bytes (including NULs)
  // and vary the stream, so both the compression and the stream ids count.
  std::mt19937 rng(1234);
  std::string written;
  std::vector<Chunk> expected;
  constexpr std::size_t kTotal = 5 * 1024 * 1024;
  constexpr std::size_t kChunk = 64 * 1024;
  int n = 0;
  while (written.size() < kTotal) {
    std::string data;
    if (n % 3 == 0) {
      data.resize(kChunk);
      for (char& ch : data) ch = static_cast<char>(rng() & 0xff);
    } else {
      while (data.size() < kChunk) {
        data += "line " + std::to_string(n) + ": g++ -O2 -c src/file" +
                std::to_string(rng() % 1000) + ".cpp\n";
      }
      data.resize(kChunk - static_cast<std::size_t>(n % 7));
    }
    const int stream = n % 3 == 2 ? 1 : (n % 11 == 0 ? 2 : 0);
    db.appendLog(id, stream, data);
    written += data;
    expected.push_back({stream, std::move(data)});
    ++n;
  }
  db.finishLog(id);
  EXPECT_EQ(db.getLog(id)->bytes, static_cast<std::int64_t>(written.size()));
  EXPECT_EQ(db.getLog(id)->chunks, n);

  std::size_t index = 0;
  std::size_t largestCallback = 0;
  std::string readBack;
  db.readLog(id, [&](int stream, std::string_view data) {
    EXPECT_LT(index, expected.size());
    if (index < expected.size()) {
      EXPECT_EQ(stream, expected[index].stream) << "chunk " << index;
      EXPECT_EQ(data.size(), expected[index].data.size()) << "chunk " << index;
    }
    largestCallback = std::max(largestCallback, data.size());
    readBack.append(data);
    ++index;
    return true;
  });
  EXPECT_EQ(index, expected.size());
  EXPECT_LE(largestCallback, kChunk);  // never the whole log at once
  EXPECT_TRUE(readBack == written);
}

TEST_F(Logs, ReaderCanStopEarly) {
  const auto id = db.addLog(stepId, "stdio");
  for (int i = 0; i < 10; ++i) db.appendLog(id, 0, "chunk " + std::to_string(i));
  int calls = 0;
  db.readLog(id, [&](int, std::string_view data) {
    ++calls;
    return data != "chunk 3";
  });
  EXPECT_EQ(calls, 4);
}

TEST_F(Logs, ReaderMayCallBackIntoTheDatabase) {
  const auto first = db.addLog(stepId, "one");
  const auto second = db.addLog(stepId, "two");
  db.appendLog(first, 0, "a");
  db.appendLog(first, 0, "b");
  db.appendLog(second, 1, "x");
  std::string seen;
  db.readLog(first, [&](int, std::string_view data) {
    seen.append(data);
    db.readLog(second, [&](int stream, std::string_view inner) {
      seen.append(inner);
      seen.append(std::to_string(stream));
      return true;
    });
    return true;
  });
  EXPECT_EQ(seen, "ax1bx1");
}

}  // namespace
}  // namespace bb::db

namespace bb::db {
namespace {

TEST(LogPaging, ReadFromAnOffsetSkipsWholeChunksAndCutsTheFirst) {
  Database db(":memory:");
  db.upgrade();
  const auto bid = db.addBuild(db.registerMaster("m", 1), 0, "b", "s", 1, Json::object()).id;
  const auto logId = db.addLog(db.addStep(bid, 1, "x", 1), "stdio");
  db.appendLog(logId, 0, "0123456789");
  db.appendLog(logId, 1, "abcdef");
  db.appendLog(logId, 0, "XYZ");
  auto from = [&](std::int64_t offset) {
    std::string out;
    std::vector<int> streams;
    db.readLogFrom(logId, offset, [&](int stream, std::string_view d) {
      out.append(d);
      streams.push_back(stream);
      return true;
    });
    return std::make_pair(out, streams);
  };
  EXPECT_EQ(from(0).first, "0123456789abcdefXYZ");
  EXPECT_EQ(from(7).first, "789abcdefXYZ");
  EXPECT_EQ(from(10).first, "abcdefXYZ");
  EXPECT_EQ(from(12), (std::make_pair(std::string("cdefXYZ"), std::vector<int>{1, 0})));
  EXPECT_EQ(from(18).first, "Z");
  EXPECT_EQ(from(19).first, "");
  EXPECT_EQ(from(500).first, "");
}

// Output that barely compresses is stored in zstd's fast mode for a while,
// then level 1 is tried again; every chunk reads back as written.
TEST(LogCompression, IncompressibleOutputSwitchesToFastModeAndBack) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("bb-logcomp-" + std::to_string(::getpid()) + ".sqlite")).string();
  auto removeAll = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    std::filesystem::remove_all(path + ".logs");
  };
  removeAll();
  std::string written;
  std::int64_t logId = 0;
  {
    Database db(path, OpenMode::CreateIfMissing);
    db.upgrade();
    BuildsetRecord bs;
    const auto brid = db.addBuildset(bs, {"a"}, 0).second.at("a");
    const auto build = db.addBuild(db.registerMaster("m", 1), brid, "a", "s", 1, Json::object());
    logId = db.addLog(db.addStep(build.id, 1, "shell", 1), "stdio");
    std::mt19937 rng(7);
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    auto randomChunk = [&] {
      std::string c(64 * 1024, ' ');
      for (char& ch : c) ch = kB64[rng() % 64];
      return c;
    };
    const std::string text = [] {
      std::string t;
      while (t.size() < 64 * 1024) t += "compiling module " + std::to_string(t.size() % 97) + "\n";
      return t;
    }();
    // 1 probe at level 1, 15 in fast mode, then level 1 again (text).
    for (int i = 0; i < 16; ++i) {
      const std::string c = randomChunk();
      db.appendLog(logId, 0, c);
      written += c;
    }
    db.appendLog(logId, 0, text);
    written += text;
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT raw_size, coalesce(file_bytes, length(compressed)) FROM log_chunks ORDER BY seq",
                               -1, &st, nullptr), SQLITE_OK);
  std::vector<std::pair<std::int64_t, std::int64_t>> sizes;
  while (sqlite3_step(st) == SQLITE_ROW) sizes.emplace_back(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
  sqlite3_finalize(st);
  sqlite3_close(raw);
  ASSERT_EQ(sizes.size(), 17u);
  // Level 1 codes base64 letters in 6 bits; the fast mode stores them as is.
  EXPECT_LT(sizes[0].second * 10, sizes[0].first * 8);
  for (int i = 1; i < 16; ++i) EXPECT_GT(sizes[i].second * 100, sizes[i].first * 99) << i;
  EXPECT_LT(sizes[16].second * 20, sizes[16].first);  // text: level 1 again

  Database db(path, OpenMode::MustExist);
  std::string back;
  db.readLog(logId, [&](int, std::string_view d) {
    back.append(d);
    return true;
  });
  EXPECT_EQ(back, written);
  removeAll();
}

}  // namespace
}  // namespace bb::db
