#pragma once
// A reporter's outbox: a bounded queue served by one worker thread of its
// own, so the slow part of telling someone (an SMTP dialogue, an HTTP
// POST) never runs on the master's loop. Items go out in order; one that
// fails with a temporary error (server down; SMTP 4xx; HTTP 408, 429,
// 5xx) is tried again with exponential back-off for as long as the master
// runs, and holds the ones behind it (they would fail the same way). A
// permanent error (SMTP 5xx; any other HTTP 4xx) or an attempt that
// throws kMaxThrows times drops the item with a logged reason. Nothing here touches master state: an attempt gets only
// what was captured when the item was queued.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace bb {

struct DeliveryResult {
  enum class Kind { Delivered, Temporary, Permanent };
  Kind kind = Kind::Delivered;
  std::string error;  // why it failed (empty when delivered)

  static DeliveryResult delivered() { return {}; }
  static DeliveryResult temporary(std::string why) { return {Kind::Temporary, std::move(why)}; }
  static DeliveryResult permanent(std::string why) { return {Kind::Permanent, std::move(why)}; }
};

class DeliveryQueue {
 public:
  static constexpr int kMaxThrows = 3;

  struct Options {
    std::string name = "reporter";  // for log lines: "mail reporter 'm'"
    std::size_t maxQueued = 100;
    std::chrono::milliseconds retryInitial{1000};
    std::chrono::milliseconds retryMax{300'000};
  };

  // Runs on the worker thread; may throw.
  using Attempt = std::function<DeliveryResult()>;

  explicit DeliveryQueue(Options opts);
  // finish(0) if it was not called.
  ~DeliveryQueue();
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  // Queues one item (`what` names it in log lines: "mail for b1 #3").
  // False, with a logged reason, when the queue is full or finishing: the
  // item is dropped and counted.
  bool push(std::string what, Attempt attempt);

  // New limits (a reconfig): the bound applies to later push()es, the
  // back-off from the next failure on.
  void setLimits(std::size_t maxQueued, std::chrono::milliseconds retryInitial,
                 std::chrono::milliseconds retryMax);

  // Stops taking items, gives the worker up to `limit` to deliver what is
  // queued (a retry waiting for its back-off is tried at once, and again
  // at the limit), drops the rest with a log line, and joins the worker.
  // An attempt under way is not interrupted: the wait can exceed `limit`
  // by one attempt's own timeout.
  void finish(std::chrono::milliseconds limit);

  struct Counts {
    std::size_t queued = 0;
    std::uint64_t delivered = 0, failed = 0, dropped = 0, retries = 0;
    std::string lastError;
  };
  Counts counts() const;

 private:
  struct Item {
    std::string what;
    Attempt attempt;
    int tries = 0, throws = 0;
  };
  void run();
  // One attempt at the front item, outside the lock; true if it is done
  // with (delivered or dropped).
  bool attemptFront(Item& item, std::chrono::milliseconds& backoff);

  Options opts_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> items_;
  bool finishing_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  Counts counts_;
  std::thread worker_;
};

}  // namespace bb
