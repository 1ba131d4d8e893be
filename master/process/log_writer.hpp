#pragma once
// Streams one log into the database as it arrives: output is gathered into
// chunks of up to kChunkBytes per stream and stored compressed, so a huge
// log never sits in memory.
#include <cstdint>
#include <string>
#include <string_view>

namespace bb::db {
class Database;
}

namespace bb {

class LogWriter {
 public:
  static constexpr std::size_t kChunkBytes = 64 * 1024;

  LogWriter(db::Database& db, std::int64_t logId) : db_(db), logId_(logId) {}
  // Adds output of `stream` (0 stdout, 1 stderr, 2 header); stores a chunk
  // whenever the buffer fills or the stream changes.
  void append(int stream, std::string_view data);
  // Stores what is buffered and marks the log finished. Idempotent.
  void finish();
  std::int64_t logId() const { return logId_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  void flush();
  db::Database& db_;
  std::int64_t logId_;
  std::string buf_;
  int stream_ = 0;
  std::uint64_t bytes_ = 0;
  bool finished_ = false;
};

}  // namespace bb
