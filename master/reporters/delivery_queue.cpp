#include "master/reporters/delivery_queue.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace bb {

using SteadyClock = std::chrono::steady_clock;

DeliveryQueue::DeliveryQueue(Options opts) : opts_(std::move(opts)) {
  if (opts_.retryInitial.count() <= 0) opts_.retryInitial = std::chrono::milliseconds(1);
  opts_.retryMax = std::max(opts_.retryMax, opts_.retryInitial);
  worker_ = std::thread([this] { run(); });
}

DeliveryQueue::~DeliveryQueue() { finish(std::chrono::milliseconds(0)); }

bool DeliveryQueue::push(std::string what, Attempt attempt) {
  std::unique_lock lock(mutex_);
  if (finishing_ || items_.size() >= opts_.maxQueued) {
    ++counts_.dropped;
    const std::string why = finishing_ ? "the master is shutting down"
                                       : "the queue is full (" + std::to_string(opts_.maxQueued) +
                                             " waiting; is the server down?)";
    counts_.lastError = what + " dropped: " + why;
    lock.unlock();
    spdlog::error("{}: {} dropped: {}", opts_.name, what, why);
    return false;
  }
  items_.push_back(Item{std::move(what), std::move(attempt)});
  lock.unlock();
  wake_.notify_all();
  return true;
}

void DeliveryQueue::setLimits(std::size_t maxQueued, std::chrono::milliseconds retryInitial,
                              std::chrono::milliseconds retryMax) {
  std::lock_guard lock(mutex_);
  opts_.maxQueued = maxQueued;
  opts_.retryInitial = std::max(retryInitial, std::chrono::milliseconds(1));
  opts_.retryMax = std::max(retryMax, opts_.retryInitial);
}

void DeliveryQueue::finish(std::chrono::milliseconds limit) {
  {
    std::lock_guard lock(mutex_);
    if (!finishing_) {
      finishing_ = true;
      deadline_ = SteadyClock::now() + limit;
    }
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

DeliveryQueue::Counts DeliveryQueue::counts() const {
  std::lock_guard lock(mutex_);
  Counts c = counts_;
  c.queued = items_.size();
  return c;
}

// The worker. Only it pops items, and a deque's push_back keeps references
// to its elements valid, so the front item is used outside the lock while
// push() adds behind it. After finish(): a retry that was waiting is tried
// at once, then (back-off permitting) again at the deadline, and whatever
// is left when the deadline has passed is dropped.
void DeliveryQueue::run() {
  auto backoff = opts_.retryInitial;
  std::unique_lock lock(mutex_);
  auto dropAll = [&] {
    std::string names;
    for (const auto& i : items_) names += (names.empty() ? "" : ", ") + i.what;
    counts_.dropped += items_.size();
    spdlog::error("{}: shutting down with {} undelivered item(s), dropped: {}", opts_.name, items_.size(),
                  names);
    items_.clear();
  };
  for (;;) {
    wake_.wait(lock, [&] { return finishing_ || !items_.empty(); });
    if (items_.empty()) return;
    Item& item = items_.front();
    lock.unlock();
    const bool done = attemptFront(item, backoff);
    lock.lock();
    const bool late = finishing_ && SteadyClock::now() >= deadline_;
    if (done) {
      items_.pop_front();
      backoff = opts_.retryInitial;
      if (late && !items_.empty()) {
        dropAll();
        return;
      }
      continue;
    }
    ++counts_.retries;
    if (late) {
      dropAll();
      return;
    }
    const bool wasFinishing = finishing_;
    auto until = SteadyClock::now() + backoff;
    if (finishing_) until = std::min(until, deadline_);
    // finish() while waiting cuts the wait short: the item is tried at once.
    while (SteadyClock::now() < until && finishing_ == wasFinishing) wake_.wait_until(lock, until);
    backoff = std::max(opts_.retryInitial, std::min(backoff * 2, opts_.retryMax));
  }
}

bool DeliveryQueue::attemptFront(Item& item, std::chrono::milliseconds& backoff) {
  ++item.tries;
  DeliveryResult r;
  try {
    r = item.attempt();
  } catch (const std::exception& e) {
    ++item.throws;
    r = DeliveryResult{item.throws >= kMaxThrows ? DeliveryResult::Kind::Permanent
                                                 : DeliveryResult::Kind::Temporary,
                       std::string("internal error: ") + e.what()};
  } catch (...) {
    ++item.throws;
    r = DeliveryResult{item.throws >= kMaxThrows ? DeliveryResult::Kind::Permanent
                                                 : DeliveryResult::Kind::Temporary,
                       "internal error (not a std::exception)"};
  }
  std::lock_guard lock(mutex_);
  switch (r.kind) {
    case DeliveryResult::Kind::Delivered:
      ++counts_.delivered;
      spdlog::info("{}: {} delivered{}", opts_.name, item.what,
                   item.tries > 1 ? " after " + std::to_string(item.tries) + " tries" : "");
      return true;
    case DeliveryResult::Kind::Permanent:
      ++counts_.failed;
      counts_.lastError = item.what + ": " + r.error;
      spdlog::error("{}: {} dropped after {} tries: {}", opts_.name, item.what, item.tries, r.error);
      return true;
    case DeliveryResult::Kind::Temporary:
      counts_.lastError = item.what + ": " + r.error;
      break;
  }
  spdlog::warn("{}: {} not delivered ({}); trying again in {} ms", opts_.name, item.what, r.error,
               std::min(backoff, opts_.retryMax).count());
  return false;
}

}  // namespace bb
