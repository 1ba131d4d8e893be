#pragma once
// Big log chunks kept outside SQLite: one append-only file per log, in a
// directory beside the database file (state.sqlite -> state.sqlite.logs/).
// A chunk's row in log_chunks then holds where its bytes are (file_offset,
// file_bytes) instead of the bytes: a 64 KiB chunk costs one write() here
// instead of sixteen page writes to the WAL and sixteen more when the WAL
// is checkpointed into the database file (docs/performance.md, "Log
// streaming"). Used only by an embedded (SQLite) database on a file; a
// shared database (PostgreSQL) keeps every chunk in the database, where
// every master can read it.
//
// A file holds only bytes its rows point at, plus possibly bytes past the
// last committed row (a write whose transaction failed, or a crash between
// the write and the commit): the next write goes to the committed end, and
// a writer opened for a log first cuts the file back to that end.
// Every failure throws bb::DbError; ENOSPC, EDQUOT and EFBIG are kind
// DiskFull, like the database's own.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bb::db {

class LogFiles {
 public:
  // Files live in `dir`, made when the first one is written.
  explicit LogFiles(std::string dir);
  ~LogFiles();
  LogFiles(const LogFiles&) = delete;
  LogFiles& operator=(const LogFiles&) = delete;

  const std::string& dir() const { return dir_; }
  std::string pathOf(std::int64_t logId) const;

  // Writes `data` at the end of log `logId`'s committed bytes and returns
  // the offset it went to. `committedEnd` is asked once, when this log's
  // file is first opened for writing here (the end of its last stored
  // chunk, 0 for none). Call written() once the chunk's row is stored.
  std::int64_t write(std::int64_t logId, std::string_view data,
                     const std::function<std::int64_t()>& committedEnd);
  void written(std::int64_t logId, std::int64_t end);
  // The log takes no more writes: its file is closed.
  void close(std::int64_t logId);
  // The row of the chunk just written was not stored: the file is cut back
  // to its committed end (deleted when that is 0) and closed.
  void abandon(std::int64_t logId);

  // Reads `size` bytes at `offset` of log `logId`'s file into `out`
  // (resized). The file is opened for this read only: it may be deleted,
  // and its id given to a new log, once the caller is done. DbError kind
  // Corrupt when the file is missing or shorter.
  void read(std::int64_t logId, std::int64_t offset, std::size_t size, std::string& out) const;

  // Deletes the files of these logs (those that have none are skipped).
  // Failures are logged, not thrown: the rows are already gone.
  void remove(const std::vector<std::int64_t>& logIds);

 private:
  struct Writer {
    int fd = -1;
    std::int64_t end = 0;
  };
  Writer& writer(std::int64_t logId, const std::function<std::int64_t()>& committedEnd);

  std::string dir_;
  bool dirMade_ = false;
  std::unordered_map<std::int64_t, Writer> writers_;
};

}  // namespace bb::db
