// DeliveryQueue: items go out in order on its worker thread; a temporary
// failure is retried with back-off and holds the items behind it; a
// permanent one, or an attempt that throws kMaxThrows times, drops the item;
// the queue is bounded; finish() gives a waiting retry one more try and
// drops the rest.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "master/reporters/delivery_queue.hpp"

namespace bb {
namespace {

using namespace std::chrono_literals;

DeliveryQueue::Options fast(std::size_t maxQueued = 10) {
  DeliveryQueue::Options o;
  o.name = "test";
  o.maxQueued = maxQueued;
  o.retryInitial = 5ms;
  o.retryMax = 20ms;
  return o;
}

bool waitUntil(const std::function<bool()>& cond) {
  for (int i = 0; i < 1000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

TEST(DeliveryQueue, RetriesATemporaryFailureAndKeepsTheOrder) {
  DeliveryQueue q(fast());
  std::mutex m;
  std::vector<std::string> sent;
  std::atomic<int> firstTries{0};
  q.push("first", [&] {
    if (++firstTries < 3) return DeliveryResult::temporary("server down");
    std::lock_guard l(m);
    sent.push_back("first");
    return DeliveryResult::delivered();
  });
  q.push("second", [&] {
    std::lock_guard l(m);
    sent.push_back("second");
    return DeliveryResult::delivered();
  });
  ASSERT_TRUE(waitUntil([&] { return q.counts().delivered == 2; }));
  EXPECT_EQ(firstTries.load(), 3);
  EXPECT_EQ(sent, (std::vector<std::string>{"first", "second"}));
  const auto c = q.counts();
  EXPECT_EQ(c.retries, 2u);
  EXPECT_EQ(c.queued, 0u);
  EXPECT_EQ(c.failed, 0u);
}

TEST(DeliveryQueue, APermanentFailureDropsTheItemWithItsReason) {
  DeliveryQueue q(fast());
  std::atomic<int> tries{0};
  q.push("refused", [&] {
    ++tries;
    return DeliveryResult::permanent("550 no such user");
  });
  q.push("fine", [] { return DeliveryResult::delivered(); });
  ASSERT_TRUE(waitUntil([&] { return q.counts().delivered == 1; }));
  EXPECT_EQ(tries.load(), 1);
  EXPECT_EQ(q.counts().failed, 1u);
  EXPECT_NE(q.counts().lastError.find("550 no such user"), std::string::npos);
}

TEST(DeliveryQueue, AnAttemptThatThrowsIsRetriedThenDroppedAndTheWorkerGoesOn) {
  DeliveryQueue q(fast());
  std::atomic<int> tries{0};
  q.push("buggy", [&]() -> DeliveryResult {
    ++tries;
    throw std::runtime_error("boom");
  });
  q.push("fine", [] { return DeliveryResult::delivered(); });
  ASSERT_TRUE(waitUntil([&] { return q.counts().delivered == 1; }));
  EXPECT_EQ(tries.load(), DeliveryQueue::kMaxThrows);
  EXPECT_EQ(q.counts().failed, 1u);
  EXPECT_NE(q.counts().lastError.find("boom"), std::string::npos);
}

TEST(DeliveryQueue, IsBounded) {
  DeliveryQueue q(fast(2));
  std::atomic<bool> release{false};
  // The first item is held by the worker (in flight) and counts as queued.
  EXPECT_TRUE(q.push("a", [&] {
    while (!release) std::this_thread::sleep_for(1ms);
    return DeliveryResult::delivered();
  }));
  EXPECT_TRUE(q.push("b", [] { return DeliveryResult::delivered(); }));
  EXPECT_FALSE(q.push("c", [] { return DeliveryResult::delivered(); }));
  EXPECT_EQ(q.counts().dropped, 1u);
  EXPECT_NE(q.counts().lastError.find("queue is full"), std::string::npos);
  release = true;
  ASSERT_TRUE(waitUntil([&] { return q.counts().delivered == 2; }));
}

// The retry waiting when finish() comes is tried at once, and once more at
// the deadline (its 10 s back-off is cut to it); then it and the item
// behind it are dropped.
TEST(DeliveryQueue, FinishTriesAWaitingRetryAgainUntilTheDeadlineThenDropsTheRest) {
  DeliveryQueue::Options o = fast();
  o.retryInitial = 10s;  // only finish() can cut this wait short
  o.retryMax = 10s;
  DeliveryQueue q(o);
  std::atomic<int> tries{0};
  q.push("down", [&] {
    ++tries;
    return DeliveryResult::temporary("server down");
  });
  q.push("behind", [] { return DeliveryResult::delivered(); });
  ASSERT_TRUE(waitUntil([&] { return tries.load() == 1; }));
  const auto started = std::chrono::steady_clock::now();
  q.finish(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "the 10 s back-off was not waited for";
  EXPECT_EQ(tries.load(), 3);
  const auto c = q.counts();
  EXPECT_EQ(c.queued, 0u);
  EXPECT_EQ(c.dropped, 2u);
  EXPECT_EQ(c.delivered, 0u);
  EXPECT_FALSE(q.push("late", [] { return DeliveryResult::delivered(); }));
}

TEST(DeliveryQueue, FinishDeliversWhatCanBeDelivered) {
  DeliveryQueue q(fast());
  for (int i = 0; i < 5; ++i) q.push("m" + std::to_string(i), [] { return DeliveryResult::delivered(); });
  q.finish(10s);
  EXPECT_EQ(q.counts().delivered, 5u);
}

}  // namespace
}  // namespace bb
