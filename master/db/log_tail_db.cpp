// The end of a log, read backwards chunk by chunk.
#include <zstd.h>

#include <algorithm>

#include "master/db/database.hpp"
#include "master/db/db_error.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

std::string Database::readLogTail(std::int64_t logId, int maxLines, std::size_t maxBytes) {
  static constexpr char kChunksFromEnd[] =
      "SELECT raw_size, compressed, file_offset, file_bytes FROM log_chunks WHERE log_id = ?1"
      " ORDER BY seq DESC";
  if (maxLines < 1 || maxBytes == 0) return "";
  std::string tail;  // the chunks read so far, in log order
  std::string chunk, scratch;
  Statement s = stmt(kChunksFromEnd);
  s.bind(1, logId);
  while (s.step()) {
    const auto rawSize = static_cast<std::size_t>(std::max<std::int64_t>(s.getInt(0), 0));
    const std::string_view compressed = storedChunk(logId, s, 1, scratch);
    chunk.resize(rawSize);
    const std::size_t n = ZSTD_decompress(chunk.data(), chunk.size(), compressed.data(), compressed.size());
    if (ZSTD_isError(n))
      throw DbError("log " + std::to_string(logId) + ": a chunk does not decompress: " +
                    ZSTD_getErrorName(n));
    chunk.resize(n);
    tail.insert(0, chunk);
    // One more newline than lines wanted: the line before them is complete.
    if (tail.size() >= maxBytes ||
        std::count(tail.begin(), tail.end(), '\n') > maxLines)
      break;
  }
  if (tail.size() > maxBytes) tail.erase(0, tail.size() - maxBytes);
  // Keep the last maxLines lines (a last line without '\n' counts).
  std::size_t end = tail.size();
  if (end > 0 && tail[end - 1] == '\n') --end;
  int lines = 0;
  std::size_t start = end;
  while (start > 0) {
    if (tail[start - 1] == '\n' && ++lines == maxLines) break;
    --start;
  }
  return tail.substr(start);
}

}  // namespace bb::db
