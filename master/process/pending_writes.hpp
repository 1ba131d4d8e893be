#pragma once
// Writes the database refused because its disk is full, kept and tried
// again with back-off until they succeed, and the master's storage
// condition that `status` shows. A full disk is the operator's problem, not
// a bug: the master goes on serving what needs no writing, and recovers by
// itself once there is room.
//
// Owned by the io_context thread like the rest of master state; every
// retry runs from a Clock timer and never throws.
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/event_loop.hpp"

namespace bb {

class PendingWrites {
 public:
  static constexpr std::chrono::milliseconds kFirstRetry{1000};
  static constexpr std::chrono::milliseconds kMaxRetry{30000};
  using Write = std::function<void()>;

  // `probe` is a small write (a heartbeat) tried while the disk is known
  // to be full but no write is pending, to see when room returns.
  // `onRecovered` runs once each time the condition clears (the
  // distributor can start builds again).
  PendingWrites(Clock& clock, Write probe, std::function<void()> onRecovered = {});
  ~PendingWrites();
  PendingWrites(const PendingWrites&) = delete;
  PendingWrites& operator=(const PendingWrites&) = delete;

  // Whether `e` is a DbError of kind DiskFull.
  static bool isDiskFull(const std::exception& e);
  // Whether `e` is a DbError of kind ConnectionLost (a PostgreSQL server
  // down or restarting): tried again like a full disk.
  static bool isConnectionLost(const std::exception& e);

  // Runs `write` now; if it throws a disk-full or connection-lost DbError,
  // keeps it (with `what` naming it in the log) to try again after
  // kFirstRetry, doubling up to kMaxRetry, in the order given, until it
  // succeeds. Returns whether it is written now. Any other failure is
  // thrown as it is.
  bool write(const std::string& what, Write write);
  // A write failed because the disk is full (`cause` is the error): marks
  // the condition and starts probing for room, once per outage.
  void noteFull(const std::string& cause);

  // Whether the disk is known to be full (since the first failure, until
  // a write succeeds again).
  bool full() const { return since_.has_value(); }
  std::size_t pending() const { return queue_.size(); }
  // "ok", or "disk full since 2026-01-01T12:00:00Z, retrying 2 pending
  // write(s) with back-off: CAUSE".
  std::string describe() const;

  // At shutdown: tries each pending write once more and logs what still
  // could not be stored (the next start recovers it). Stops retrying.
  void flushOnce();

 private:
  struct Pending {
    std::string what;
    Write write;
  };
  void arm();
  void retry();
  void recovered();

  Clock& clock_;
  Write probe_;
  std::function<void()> onRecovered_;
  std::unique_ptr<Timer> timer_;
  std::deque<Pending> queue_;
  std::optional<WallTime> since_;
  std::optional<WallTime> unreachableSince_;  // the database server, not the disk
  std::string cause_;
  std::chrono::milliseconds delay_ = kFirstRetry;
  bool stopped_ = false;
};

}  // namespace bb
