#include "master/process/pending_writes.hpp"

#include <algorithm>
#include <ctime>

#include <spdlog/spdlog.h>

#include "master/db/db_error.hpp"

namespace bb {

namespace {

std::string isoUtc(WallTime t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

PendingWrites::PendingWrites(Clock& clock, Write probe, std::function<void()> onRecovered)
    : clock_(clock), probe_(std::move(probe)), onRecovered_(std::move(onRecovered)) {}

PendingWrites::~PendingWrites() = default;

bool PendingWrites::isDiskFull(const std::exception& e) {
  const auto* db = dynamic_cast<const DbError*>(&e);
  return db && db->kind() == DbErrorKind::DiskFull;
}

bool PendingWrites::isConnectionLost(const std::exception& e) {
  const auto* db = dynamic_cast<const DbError*>(&e);
  return db && db->kind() == DbErrorKind::ConnectionLost;
}

bool PendingWrites::write(const std::string& what, Write write) {
  // Behind writes already waiting, a new one waits too: they land in order.
  if (queue_.empty()) {
    try {
      write();
      return true;
    } catch (const std::exception& e) {
      if (isDiskFull(e)) {
        noteFull(e.what());
      } else if (isConnectionLost(e)) {
        cause_ = e.what();
        if (!unreachableSince_) {
          unreachableSince_ = clock_.wallNow();
          delay_ = kFirstRetry;
        }
      } else {
        throw;
      }
    }
  }
  if (unreachableSince_ && !since_)
    spdlog::error("database unreachable: {} could not be stored; retrying with back-off until the "
                  "server answers",
                  what);
  else
    spdlog::error("disk full: {} could not be stored; retrying with back-off until there is room",
                  what);
  queue_.push_back(Pending{what, std::move(write)});
  arm();
  return false;
}

void PendingWrites::noteFull(const std::string& cause) {
  cause_ = cause;
  if (!since_) {
    since_ = clock_.wallNow();
    delay_ = kFirstRetry;
    spdlog::critical("disk full: the database cannot be written ({}); builds that need to write "
                     "end, the master keeps serving and retries with back-off; free some space",
                     cause);
  }
  arm();
}

void PendingWrites::arm() {
  if (stopped_) return;
  if (!timer_) timer_ = clock_.makeTimer();
  if (timer_->pending()) return;
  timer_->start(delay_, [this] { retry(); });
}

void PendingWrites::retry() {
  // Runs from the timer: nothing may escape, whatever a write throws.
  try {
    if (queue_.empty() && since_ && probe_) probe_();
    while (!queue_.empty()) {
      queue_.front().write();
      spdlog::info("{}: {} is stored", since_ ? "disk has room again" : "database reachable again",
                   queue_.front().what);
      queue_.pop_front();
    }
    recovered();
  } catch (const std::exception& e) {
    if (!isDiskFull(e) && !isConnectionLost(e)) {
      // Not the disk: retrying will not help. Logged and dropped; the next
      // start recovers what it left unwritten.
      if (!queue_.empty()) {
        spdlog::critical("{} could not be stored: {}; it is recovered at the next start",
                         queue_.front().what, e.what());
        queue_.pop_front();
      } else {
        spdlog::error("storage probe failed: {}", e.what());
      }
    } else {
      cause_ = e.what();
      delay_ = std::min(delay_ * 2, kMaxRetry);
    }
    arm();
  }
}

void PendingWrites::recovered() {
  if (unreachableSince_) {
    spdlog::warn("database reachable again (unreachable since {}); the pending writes are stored",
                 isoUtc(*unreachableSince_));
    unreachableSince_.reset();
    delay_ = kFirstRetry;
    if (!since_) cause_.clear();
  }
  if (!since_) return;
  spdlog::warn("disk full: over; the database can be written again (full since {})",
               isoUtc(*since_));
  since_.reset();
  cause_.clear();
  delay_ = kFirstRetry;
  if (onRecovered_) onRecovered_();
}

std::string PendingWrites::describe() const {
  if (!since_ && unreachableSince_)
    return "database unreachable since " + isoUtc(*unreachableSince_) + ", retrying " +
           std::to_string(queue_.size()) + " pending write(s) with back-off: " + cause_;
  if (!since_) return "ok";
  std::string out = "disk full since " + isoUtc(*since_) + ", retrying";
  if (!queue_.empty()) out += " " + std::to_string(queue_.size()) + " pending write(s)";
  out += " with back-off: " + cause_;
  return out;
}

void PendingWrites::flushOnce() {
  stopped_ = true;
  if (timer_) timer_->cancel();
  while (!queue_.empty()) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    try {
      p.write();
    } catch (const std::exception& e) {
      spdlog::critical("{} could not be stored before the stop ({}); the next start recovers it",
                       p.what, e.what());
    }
  }
}

}  // namespace bb
