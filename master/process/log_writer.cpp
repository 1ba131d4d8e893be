#include "master/process/log_writer.hpp"

#include <algorithm>

#include "common/event_loop.hpp"
#include "master/db/database.hpp"

namespace bb {

LogWriter::LogWriter(db::Database& db, std::int64_t logId, Clock* clock, Stored onStored,
                     Failed onFailed)
    : db_(db),
      logId_(logId),
      clock_(clock),
      onStored_(std::move(onStored)),
      onFailed_(std::move(onFailed)) {}

LogWriter::~LogWriter() = default;

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
  if (!buf_.empty() && clock_) {
    if (!timer_) timer_ = clock_->makeTimer();
    if (!timer_->pending())
      timer_->start(kFlushDelay, [this] {
        try {
          flush();
        } catch (const std::exception& e) {
          finished_ = true;  // nothing more can go into this log
          buf_.clear();
          if (onFailed_) onFailed_(std::string("cannot store log output: ") + e.what());
        }
      });
  }
}

void LogWriter::flush() {
  if (timer_) timer_->cancel();
  if (buf_.empty()) return;
  LogStored s{logId_, stored_, stored_ + static_cast<std::int64_t>(buf_.size()),
              std::count(buf_.begin(), buf_.end(), '\n')};
  db_.appendLog(logId_, stream_, buf_);
  stored_ = s.endByte;
  buf_.clear();
  if (onStored_) onStored_(s);
}

void LogWriter::finish() {
  if (finished_) return;
  flush();
  db_.finishLog(logId_);
  finished_ = true;
  timer_.reset();
}

}  // namespace bb
