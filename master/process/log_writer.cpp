#include "master/process/log_writer.hpp"

#include "master/db/database.hpp"

namespace bb {

void LogWriter::append(int stream, std::string_view data) {
  if (finished_ || data.empty()) return;
  if (!buf_.empty() && stream != stream_) flush();
  stream_ = stream;
  bytes_ += data.size();
  while (!data.empty()) {
    const std::size_t take = std::min(data.size(), kChunkBytes - buf_.size());
    buf_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (buf_.size() >= kChunkBytes) flush();
  }
}

void LogWriter::flush() {
  if (buf_.empty()) return;
  db_.appendLog(logId_, stream_, buf_);
  buf_.clear();
}

void LogWriter::finish() {
  if (finished_) return;
  flush();
  db_.finishLog(logId_);
  finished_ = true;
}

}  // namespace bb
