// Step logs: zstd-compressed chunks, written as they arrive and read back
// one chunk at a time.
#include <zstd.h>

#include <stdexcept>

#include "master/db/database.hpp"
#include "master/db/log_files.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

// Level 1: logs are written on the master's hot path; level 1 still shrinks
// typical build output several times over. Output that barely compresses
// (random or already-compressed data, base64 of it) costs level 1 seven
// times what the fast mode costs, for a 25 % saving at best: when a chunk
// of at least kProbeBytes shrinks by less than 30 %, the log's next
// kFastChunks chunks use the fast mode (no entropy coding), then level 1
// is tried again. Either way the chunk is ordinary zstd.
constexpr int kZstdLevel = 1;
constexpr int kFastLevel = -1;
constexpr int kFastChunks = 15;
constexpr std::size_t kProbeBytes = 16 * 1024;
constexpr int kMaxStream = 2;  // 0 stdout, 1 stderr, 2 header (bb::Stream)
// A chunk that stays at least this big compressed goes to the log's file
// (log_files.hpp) when the database has one: output that compresses well
// and the short chunks of a slow build stay in the database.
constexpr std::size_t kFileChunkBytes = 16 * 1024;

// A log row with its build's retention mark (the janitor marks builds).
#define BB_LOG_SELECT                                                                       \
  "SELECT l.id, l.step_id, l.name, l.finished, l.bytes, l.chunks, b.logs_removed_at,"        \
  " b.logs_removed_by FROM logs l JOIN steps s ON s.id = l.step_id JOIN builds b ON b.id = s.build_id"

LogRecord readLogRecord(const Statement& s) {
  LogRecord l;
  l.id = s.getInt(0);
  l.stepId = s.getInt(1);
  l.name = s.getText(2);
  l.finished = s.getBool(3);
  l.bytes = s.getInt(4);
  l.chunks = static_cast<int>(s.getInt(5));
  l.removedAt = s.getInt(6);
  l.removedBy = s.getText(7);
  return l;
}

}  // namespace

std::int64_t Database::addLog(std::int64_t stepId, const std::string& name) {
  static constexpr char kInsert[] =
      "INSERT INTO logs (step_id, name) VALUES (?1, ?2) RETURNING id";
  Statement s = stmt(kInsert);
  s.bind(1, stepId).bind(2, name);
  s.requireRow();
  return s.getInt(0);
}

void Database::appendLog(std::int64_t logId, int stream, std::string_view data) {
  // The log row hands out the chunk's sequence number and keeps the totals;
  // finished logs are refused by its WHERE clause.
  static constexpr char kBump[] =
      "UPDATE logs SET chunks = chunks + 1, bytes = bytes + ?2"
      " WHERE id = ?1 AND finished = 0 RETURNING chunks - 1";
  static constexpr char kInsert[] =
      "INSERT INTO log_chunks (log_id, seq, stream, raw_size, compressed, file_offset, file_bytes)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
  if (stream < 0 || stream > kMaxStream) {
    throw std::invalid_argument("appendLog: stream must be 0, 1 or 2, got " +
                                std::to_string(stream));
  }
  if (data.empty()) return;

  auto fast = fastLogChunks_.find(logId);
  const bool useFast = fast != fastLogChunks_.end();
  compressBuf_.resize(ZSTD_compressBound(data.size()));
  const std::size_t n = ZSTD_compressCCtx(cctx_, compressBuf_.data(), compressBuf_.size(),
                                          data.data(), data.size(), useFast ? kFastLevel : kZstdLevel);
  if (ZSTD_isError(n)) {
    throw DbError(std::string("appendLog: zstd compression failed: ") + ZSTD_getErrorName(n));
  }
  if (useFast) {
    if (--fast->second == 0) fastLogChunks_.erase(fast);
  } else if (data.size() >= kProbeBytes && n * 10 > data.size() * 7) {
    fastLogChunks_[logId] = kFastChunks;
  }

  // A big chunk's bytes go to the log's file first; its row, written
  // after, points at them. If either fails, the file is cut back to the
  // end of the chunks stored before (log_files.hpp).
  const bool inFile = logFiles_ && n >= kFileChunkBytes;
  std::int64_t fileOffset = 0;
  try {
    if (inFile) {
      static constexpr char kEnd[] =
          "SELECT coalesce(max(file_offset + file_bytes), 0) FROM log_chunks WHERE log_id = ?1"
          " AND file_offset IS NOT NULL";
      fileOffset = logFiles_->write(logId, std::string_view(compressBuf_.data(), n), [&] {
        Statement s = stmt(kEnd);
        s.bind(1, logId);
        s.requireRow();
        return s.getInt(0);
      });
    }
    transaction([&] {
      std::int64_t seq = 0;
      {
        Statement s = stmt(kBump);
        s.bind(1, logId).bind(2, static_cast<std::int64_t>(data.size()));
        if (!s.step()) {
          throw DbError("appendLog: log " + std::to_string(logId) +
                        " does not exist or is already finished");
        }
        seq = s.getInt(0);
      }
      Statement s = stmt(kInsert);
      s.bind(1, logId).bind(2, seq).bind(3, std::int64_t{stream});
      s.bind(4, static_cast<std::int64_t>(data.size()));
      if (inFile) {
        s.bindBlobNoCopy(5, compressBuf_.data(), 0);
        s.bind(6, fileOffset).bind(7, static_cast<std::int64_t>(n));
      } else {
        s.bindBlobNoCopy(5, compressBuf_.data(), n);
        s.bindNull(6).bindNull(7);
      }
      s.runAhead();
    });
  } catch (...) {
    if (inFile) logFiles_->abandon(logId);
    throw;
  }
  if (inFile) logFiles_->written(logId, fileOffset + static_cast<std::int64_t>(n));
}

void Database::finishLog(std::int64_t logId) {
  static constexpr char kFinish[] = "UPDATE logs SET finished = 1 WHERE id = ?1";
  fastLogChunks_.erase(logId);
  if (logFiles_) logFiles_->close(logId);
  Statement s = stmt(kFinish);
  s.bind(1, logId).runAheadChangingOne("finishLog: no log with id " + std::to_string(logId));
}

std::vector<LogRecord> Database::logsForStep(std::int64_t stepId) {
  static constexpr char kSelect[] = BB_LOG_SELECT " WHERE l.step_id = ?1 ORDER BY l.id";
  std::vector<LogRecord> out;
  Statement s = stmt(kSelect);
  s.bind(1, stepId);
  while (s.step()) out.push_back(readLogRecord(s));
  return out;
}

std::optional<LogRecord> Database::getLog(std::int64_t logId) {
  static constexpr char kSelect[] = BB_LOG_SELECT " WHERE l.id = ?1";
  Statement s = stmt(kSelect);
  s.bind(1, logId);
  if (!s.step()) return std::nullopt;
  return readLogRecord(s);
}

void Database::readLog(std::int64_t logId,
                       const std::function<bool(int, std::string_view)>& fn) {
  readLogFrom(logId, 0, fn);
}

void Database::readLogFrom(std::int64_t logId, std::int64_t offset,
                           const std::function<bool(int, std::string_view)>& fn) {
  static constexpr char kChunks[] =
      "SELECT seq, stream, raw_size, compressed, file_offset, file_bytes FROM log_chunks WHERE log_id = ?1"
      " ORDER BY seq";
  // A buffer per call, not per Database: the callback may call back into
  // this Database (even readLog), and stmt() then hands out separate
  // statements. It grows to the largest chunk (~64 KiB), not the log's size.
  std::string buf, scratch;
  Statement s = stmt(kChunks);
  s.bind(1, logId);
  while (s.step()) {
    const std::int64_t seq = s.getInt(0);
    const int stream = static_cast<int>(s.getInt(1));
    const std::int64_t rawSize = s.getInt(2);
    if (rawSize < 0) {
      throw DbError("corrupt log chunk " + std::to_string(seq) + " of log " +
                    std::to_string(logId) + ": negative size");
    }
    if (offset >= rawSize) {  // wholly before the wanted range: not decompressed
      offset -= rawSize;
      continue;
    }
    const std::string_view compressed = storedChunk(logId, s, 3, scratch);
    buf.resize(static_cast<std::size_t>(rawSize));
    const std::size_t n = ZSTD_decompressDCtx(dctx_, buf.data(), buf.size(), compressed.data(),
                                              compressed.size());
    if (ZSTD_isError(n) || n != buf.size()) {
      throw DbError("corrupt log chunk " + std::to_string(seq) + " of log " +
                    std::to_string(logId) + ": " +
                    (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
    }
    const auto skip = static_cast<std::size_t>(offset);
    offset = 0;
    if (!fn(stream, std::string_view(buf.data() + skip, n - skip))) return;
  }
}

std::optional<std::int64_t> Database::readLogChunkAfter(
    std::int64_t logId, std::int64_t afterSeq, const std::function<void(int, std::string_view)>& fn) {
  // One indexed row per call: a reader that streams a huge log chunk by
  // chunk does constant work per chunk, not a scan from the start.
  static constexpr char kNext[] =
      "SELECT seq, stream, raw_size, compressed, file_offset, file_bytes FROM log_chunks"
      " WHERE log_id = ?1 AND seq > ?2 ORDER BY seq LIMIT 1";
  Statement s = stmt(kNext);
  s.bind(1, logId).bind(2, afterSeq);
  if (!s.step()) return std::nullopt;
  const std::int64_t seq = s.getInt(0);
  const int stream = static_cast<int>(s.getInt(1));
  const std::int64_t rawSize = s.getInt(2);
  std::string scratch;
  const std::string_view compressed = storedChunk(logId, s, 3, scratch);
  if (rawSize < 0)
    throw DbError("corrupt log chunk " + std::to_string(seq) + " of log " + std::to_string(logId) +
                  ": negative size");
  std::string buf(static_cast<std::size_t>(rawSize), '\0');
  const std::size_t n =
      ZSTD_decompressDCtx(dctx_, buf.data(), buf.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != buf.size())
    throw DbError("corrupt log chunk " + std::to_string(seq) + " of log " + std::to_string(logId) + ": " +
                  (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  fn(stream, buf);
  return seq;
}

std::string_view Database::storedChunk(std::int64_t logId, const Statement& s, int col, std::string& scratch) {
  if (s.isNull(col + 1)) return s.getBlob(col);
  if (!logFiles_)
    throw DbError("log " + std::to_string(logId) + " has chunks in files, but database " + path_ +
                      " keeps no log files",
                  DbErrorKind::Corrupt);
  const std::int64_t bytes = s.getInt(col + 2);
  if (bytes < 0)
    throw DbError("corrupt log chunk of log " + std::to_string(logId) + ": negative file size", DbErrorKind::Corrupt);
  logFiles_->read(logId, s.getInt(col + 1), static_cast<std::size_t>(bytes), scratch);
  return scratch;
}

void Database::removeLogFilesOfBuilds(const std::vector<std::int64_t>& buildIds) {
  static constexpr char kLogs[] =
      "SELECT l.id FROM logs l JOIN steps s ON s.id = l.step_id WHERE s.build_id = ?1";
  if (!logFiles_ || buildIds.empty()) return;
  std::vector<std::int64_t> logIds;
  for (std::int64_t build : buildIds) {
    Statement s = stmt(kLogs);
    s.bind(1, build);
    while (s.step()) logIds.push_back(s.getInt(0));
  }
  if (!logIds.empty()) afterCommit([this, logIds] { logFiles_->remove(logIds); });
}

#undef BB_LOG_SELECT

}  // namespace bb::db
