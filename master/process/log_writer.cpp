#include "master/process/log_writer.hpp"

#include <algorithm>
#include <cstring>

#include "common/event_loop.hpp"
#include "master/db/database.hpp"
#include "master/secrets/secret_store.hpp"
#include "master/secrets/stream_masker.hpp"

namespace bb {

namespace {

// Newlines in `s`, eight bytes at a time: a byte of x is zero exactly where
// s has '\n', and zeroHighBits has the high bit of each zero byte only.
// (std::count compiled to a byte loop that cost 13 % of the master's time
// on fast output.)
std::int64_t countNewlines(std::string_view s) {
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  constexpr std::uint64_t kNewlines = 0x0a0a0a0a0a0a0a0aULL;
  std::int64_t n = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const std::uint64_t x = w ^ kNewlines;
    const std::uint64_t zeroHighBits = ~(((x & kLow7) + kLow7) | x | kLow7);
    // One bit per byte, summed by a multiply (no popcount instruction on
    // the baseline x86-64 target, and libgcc's is a function call).
    n += static_cast<std::int64_t>(((zeroHighBits >> 7) * 0x0101010101010101ULL) >> 56);
  }
  for (; i < s.size(); ++i) n += s[i] == '\n';
  return n;
}

}  // namespace

LogWriter::LogWriter(db::Database& db, std::int64_t logId, Clock* clock, Stored onStored,
                     Failed onFailed)
    : db_(db),
      logId_(logId),
      clock_(clock),
      onStored_(std::move(onStored)),
      onFailed_(std::move(onFailed)) {}

LogWriter::~LogWriter() = default;

void LogWriter::setMasking(std::shared_ptr<const SecretStore> secrets) {
  if (secrets && !secrets->empty()) masker_ = std::make_unique<StreamMasker>(std::move(secrets));
  else masker_.reset();
}

void LogWriter::append(int stream, std::string_view data) {
  if (finished_ || data.empty()) return;
  bytes_ += data.size();
  if (!masker_) {
    put(stream, data, data.size());
    return;
  }
  std::size_t used = 0;
  const std::string out = masker_->feed(stream, data, used);
  put(stream, out, used);
}

void LogWriter::put(int stream, std::string_view data, std::size_t input) {
  if (data.empty() && input == 0) return;  // all of it held back
  if (!buf_.empty() && stream != stream_) flush();
  stream_ = stream;
  input_ += static_cast<std::int64_t>(input);
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
          if (onFailed_) onFailed_(e);
        }
      });
  }
}

void LogWriter::flush() {
  if (timer_) timer_->cancel();
  if (buf_.empty()) return;
  LogStored s{logId_, stored_, stored_ + static_cast<std::int64_t>(buf_.size()),
              countNewlines(buf_), input_};
  input_ = 0;
  try {
    db_.appendLog(logId_, stream_, buf_);
  } catch (...) {
    // Nothing more can go into this log: what is buffered is dropped.
    finished_ = failed_ = true;
    buf_.clear();
    if (timer_) timer_->cancel();
    throw;
  }
  stored_ = s.endByte;
  buf_.clear();
  if (onStored_) onStored_(s);
}

void LogWriter::finish() {
  if (finished_) return;
  if (masker_) {
    std::size_t used = 0;
    for (const auto& [stream, text] : masker_->drain(used)) {
      put(stream, text, used);
      used = 0;  // counted once
    }
  }
  flush();
  db_.finishLog(logId_);
  finished_ = true;
  timer_.reset();
}

}  // namespace bb
