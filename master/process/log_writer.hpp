#pragma once
// Streams one log into the database as it arrives. Output is gathered per
// stream into chunks of up to kChunkBytes and stored compressed, so a huge
// log never sits in memory; and it is stored at most kFlushDelay after it
// arrived, so a reader (buildbot status --logs, watch, the web) sees a
// running build's output live instead of when a chunk fills.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bb::db {
class Database;
}

namespace bb {

class Clock;
class SecretStore;
class StreamMasker;
class Timer;

// What one store wrote: bytes [firstByte, endByte) of the log, holding
// `newlines` line ends. `inputBytes` is how many appended bytes it
// accounts for: the same count unless secrets were masked (a tag is not
// as long as the value) or held back (see setMasking).
struct LogStored {
  std::int64_t logId = 0;
  std::int64_t firstByte = 0, endByte = 0;
  std::int64_t newlines = 0;
  std::int64_t inputBytes = 0;
};

class LogWriter {
 public:
  // Each store is one row (and, for output that does not compress, one
  // write to the log's file): 256 KiB chunks cost a quarter of the stores
  // of 64 KiB ones (master CPU on log_bench's random output 0.14-0.19 s
  // against 0.23-0.27 s); a slow build's output is still stored within
  // kFlushDelay. The buffer is at most this per running log.
  static constexpr std::size_t kChunkBytes = 256 * 1024;
  static constexpr std::chrono::milliseconds kFlushDelay{200};
  using Stored = std::function<void(const LogStored&)>;
  using Failed = std::function<void(const std::exception& error)>;

  // Without a clock, output is stored only when a chunk fills or the
  // stream changes, and at finish(). `onStored` runs after each store.
  // append() and finish() throw what storing throws; a store from the
  // flush timer that fails calls `onFailed` with the error instead (the
  // owner ends what it was logging: a DbError of kind DiskFull is a full
  // disk). After any failed store the buffered output is dropped and the
  // writer takes no more (failed() is true); the log row is left open.
  LogWriter(db::Database& db, std::int64_t logId, Clock* clock = nullptr, Stored onStored = {},
            Failed onFailed = {});
  ~LogWriter();
  // Adds output of `stream` (0 stdout, 1 stderr, 2 header); stores a chunk
  // whenever the buffer fills or the stream changes, and arms the flush
  // timer otherwise. Ignored once finished.
  void append(int stream, std::string_view data);
  // Masks `secrets` in everything appended from now on, per stream, by
  // StreamMasker's rule (master/secrets/stream_masker.hpp): the few bytes
  // that may begin a secret wait for the stream's next output or finish().
  void setMasking(std::shared_ptr<const SecretStore> secrets);
  // Stores what is buffered (held bytes included) and marks the log
  // finished. Idempotent.
  void finish();
  bool finished() const { return finished_; }
  // A store failed: the log's row is still open (finish it with
  // Database::finishLog once the database takes writes again).
  bool failed() const { return failed_; }
  std::int64_t logId() const { return logId_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  // Buffers `data` (already masked), which accounts for `input` appended bytes.
  void put(int stream, std::string_view data, std::size_t input);
  void flush();
  db::Database& db_;
  std::int64_t logId_;
  Clock* clock_;
  Stored onStored_;
  Failed onFailed_;
  std::unique_ptr<Timer> timer_;
  std::string buf_;
  int stream_ = 0;
  std::unique_ptr<StreamMasker> masker_;
  std::int64_t input_ = 0;    // appended bytes accounted for by buf_
  std::uint64_t bytes_ = 0;   // appended
  std::int64_t stored_ = 0;   // written to the database
  bool finished_ = false;
  bool failed_ = false;
};

}  // namespace bb
