// The event bus: after-commit publishing, filters, bounded queues, replay.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <span>
#include <stdexcept>

#include "common/event_loop.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"

namespace bb {
namespace {

class EventBusTest : public ::testing::Test {
 protected:
  EventBusTest() {
    db.upgrade();
  }
  // Runs posted tasks until none is left.
  void runPosted() {
    while (!tasks.empty()) {
      auto t = std::move(tasks.front());
      tasks.pop_front();
      t();
    }
  }
  Event build(EventType t, const std::string& builder, std::int64_t bsid = 0) {
    Event e;
    e.type = t;
    e.builder = builder;
    e.buildsetId = bsid;
    return e;
  }
  Subscriber collect(const std::string& name, EventFilter f, std::vector<std::uint64_t>& seen) {
    Subscriber s;
    s.name = name;
    s.filter = std::move(f);
    s.deliver = [&seen](const Event& e) {
      seen.push_back(e.seq);
      return true;
    };
    return s;
  }

  ManualClock clock;
  db::Database db{":memory:"};
  std::deque<std::function<void()>> tasks;
  EventBus bus{clock, [this](std::function<void()> fn) { tasks.push_back(std::move(fn)); },
               [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
};

TEST_F(EventBusTest, DeliveryIsPostedNeverInsidePublish) {
  std::vector<std::uint64_t> seen;
  bus.subscribe(collect("a", {}, seen));
  bus.publish(build(EventType::BuildStarted, "b1"));
  EXPECT_TRUE(seen.empty());
  runPosted();
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1}));
}

TEST_F(EventBusTest, EventsInATransactionWaitForItsCommitAndVanishOnRollback) {
  std::vector<std::uint64_t> seen;
  bus.subscribe(collect("a", {}, seen));
  db.begin();
  bus.publish(build(EventType::BuildStarted, "kept"));
  runPosted();
  EXPECT_TRUE(seen.empty()) << "an event was delivered before its transaction committed";
  db.begin();
  bus.publish(build(EventType::BuildStarted, "inner, rolled back"));
  db.rollback();
  db.commit();
  runPosted();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(bus.lastSeq(), 1u);

  EXPECT_THROW(db.transaction([&] {
                 bus.publish(build(EventType::BuildStarted, "rolled back"));
                 throw std::runtime_error("boom");
               }),
               std::runtime_error);
  runPosted();
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(bus.lastSeq(), 1u);
}

TEST_F(EventBusTest, FiltersMatchTopicsAndKeys) {
  std::vector<std::uint64_t> b1, steps, bs7;
  EventFilter onB1;
  onB1.builder = "b1";
  EventFilter stepTopic;
  stepTopic.topics = {"step"};
  EventFilter set7;
  set7.buildsetId = 7;
  bus.subscribe(collect("b1", onB1, b1));
  bus.subscribe(collect("steps", stepTopic, steps));
  bus.subscribe(collect("bs7", set7, bs7));
  bus.publish(build(EventType::BuildStarted, "b1", 7));   // 1
  bus.publish(build(EventType::StepStarted, "b2", 8));    // 2
  bus.publish(build(EventType::StepFinished, "b1", 7));   // 3
  bus.publish(build(EventType::BuildsetCompleted, "", 7));  // 4
  runPosted();
  EXPECT_EQ(b1, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(steps, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(bs7, (std::vector<std::uint64_t>{1, 3, 4}));
}

TEST_F(EventBusTest, AChangeFilterFollowsTheBuildsetsMadeForTheChange) {
  std::vector<std::uint64_t> seen;
  EventFilter f;
  f.changeId = 5;
  bus.subscribe(collect("c5", f, seen));
  Event added;
  added.type = EventType::ChangeAdded;
  added.changeId = 5;
  bus.publish(added);                                       // 1
  Event other = build(EventType::BuildsetCreated, "", 10);
  other.changeIds = {4};
  bus.publish(other);                                       // 2
  Event mine = build(EventType::BuildsetCreated, "", 11);
  mine.changeIds = {4, 5};
  bus.publish(mine);                                        // 3
  bus.publish(build(EventType::BuildStarted, "b1", 10));    // 4
  bus.publish(build(EventType::BuildFinished, "b1", 11));   // 5
  runPosted();
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 3, 5}));
}

TEST_F(EventBusTest, ASubscriberThatFallsBehindIsDroppedAndTold) {
  std::string reason;
  Subscriber s;
  s.name = "stuck";
  s.maxQueue = 3;
  s.deliver = [](const Event&) { return false; };  // never takes anything
  s.dropped = [&](const std::string& why) { reason = why; };
  std::vector<std::uint64_t> healthy;
  bus.subscribe(std::move(s));
  bus.subscribe(collect("healthy", {}, healthy));
  for (int i = 0; i < 5; ++i) bus.publish(build(EventType::LogLines, "b"));
  runPosted();
  EXPECT_EQ(bus.subscriberCount(), 1u);
  EXPECT_EQ(bus.droppedCount(), 1u);
  EXPECT_NE(reason.find("not keeping up"), std::string::npos) << reason;
  EXPECT_EQ(healthy.size(), 5u) << "a stuck subscriber held up the others";
}

// What anyoneMayWant answers can change with each subscribe, unsubscribe
// and drop: the listener hears each (a master raises or lowers its wish
// for other masters' status on it, cluster_events.hpp).
TEST_F(EventBusTest, TheSubscribersChangedListenerHearsSubscribeUnsubscribeAndDrop) {
  std::vector<bool> mayWant;
  bus.onSubscribersChanged(
      [&] { mayWant.push_back(bus.anyoneMayWant(EventType::BuildFinished, /*fromOtherMaster=*/false)); });
  std::vector<std::uint64_t> seen;
  const auto first = bus.subscribe(collect("watcher", {}, seen)).id;
  ASSERT_EQ(mayWant, (std::vector<bool>{true}));
  bus.unsubscribe(first);
  ASSERT_EQ(mayWant, (std::vector<bool>{true, false}));
  Subscriber stuck;
  stuck.name = "stuck";
  stuck.maxQueue = 1;
  stuck.deliver = [](const Event&) { return false; };
  bus.subscribe(std::move(stuck));
  for (int i = 0; i < 3; ++i) bus.publish(build(EventType::BuildFinished, "b"));
  runPosted();
  EXPECT_EQ(bus.droppedCount(), 1u);
  EXPECT_EQ(mayWant, (std::vector<bool>{true, false, true, false}));
  bus.onSubscribersChanged({});
  bus.subscribe(collect("after", {}, seen));
  EXPECT_EQ(mayWant.size(), 4u) << "a cleared listener was called";
}

TEST_F(EventBusTest, ABusySubscriberGetsItsEventsLaterInOrder) {
  bool busy = true;
  std::vector<std::uint64_t> seen;
  Subscriber s;
  s.name = "slow";
  s.deliver = [&](const Event& e) {
    if (busy) return false;
    seen.push_back(e.seq);
    return true;
  };
  bus.subscribe(std::move(s));
  bus.publish(build(EventType::LogLines, "b"));
  bus.publish(build(EventType::LogLines, "b"));
  runPosted();
  EXPECT_TRUE(seen.empty());
  busy = false;
  clock.advance(std::chrono::milliseconds(50));  // the retry
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(EventBusTest, AThrowingSubscriberIsDroppedWithTheReasonAndOthersGoOn) {
  std::string reason;
  Subscriber s;
  s.name = "thrower";
  s.deliver = [](const Event&) -> bool { throw std::runtime_error("bad handler"); };
  s.dropped = [&](const std::string& why) { reason = why; };
  std::vector<std::uint64_t> healthy;
  bus.subscribe(std::move(s));
  bus.subscribe(collect("healthy", {}, healthy));
  bus.publish(build(EventType::BuildStarted, "b"));
  bus.publish(build(EventType::BuildFinished, "b"));
  runPosted();
  EXPECT_NE(reason.find("bad handler"), std::string::npos) << reason;
  EXPECT_EQ(healthy.size(), 2u);
  EXPECT_EQ(bus.subscriberCount(), 1u);
}

TEST_F(EventBusTest, ReplayFromASequenceNumberAndSayWhenHistoryIsGone) {
  EventBus small{clock, [this](std::function<void()> fn) { tasks.push_back(std::move(fn)); },
                 [](std::function<void()> fn) { fn(); }, EventBus::Options{3, std::chrono::milliseconds(20)}};
  for (int i = 0; i < 5; ++i) small.publish(build(EventType::StepStarted, "b"));
  runPosted();
  std::vector<std::uint64_t> seen;
  Subscriber s = collect("late", {}, seen);
  s.afterSeq = 3;
  auto sub = small.subscribe(std::move(s));
  EXPECT_TRUE(sub.replayComplete);
  EXPECT_EQ(sub.lastSeq, 5u);
  runPosted();
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{4, 5}));

  std::vector<std::uint64_t> seen2;
  Subscriber s2 = collect("too late", {}, seen2);
  s2.afterSeq = 1;  // event 2 is forgotten (history keeps 3..5)
  EXPECT_FALSE(small.subscribe(std::move(s2)).replayComplete);
}

TEST_F(EventBusTest, UnsubscribingInsideDeliverStopsDelivery) {
  std::vector<std::uint64_t> seen;
  std::uint64_t id = 0;
  Subscriber s;
  s.name = "once";
  s.deliver = [&](const Event& e) {
    seen.push_back(e.seq);
    bus.unsubscribe(id);
    return true;
  };
  id = bus.subscribe(std::move(s)).id;
  bus.publish(build(EventType::BuildStarted, "b"));
  bus.publish(build(EventType::BuildStarted, "b"));
  runPosted();
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(bus.subscriberCount(), 0u);
}

TEST_F(EventBusTest, ABatchSubscriberTakesARoundInOneCallAndTheRestAfterItWasBusy) {
  std::vector<std::uint64_t> seen;
  std::vector<std::size_t> offered;
  std::size_t room = 3;
  Subscriber s;
  s.name = "batch";
  s.deliverBatch = [&](std::span<const std::shared_ptr<const Event>> evs) {
    offered.push_back(evs.size());
    std::size_t n = 0;
    for (const auto& e : evs) {
      if (n == room) break;
      seen.push_back(e->seq);
      ++n;
    }
    return n;
  };
  bus.subscribe(std::move(s));
  for (int i = 0; i < 5; ++i) bus.publish(build(EventType::LogLines, "b"));
  runPosted();
  EXPECT_EQ(offered, (std::vector<std::size_t>{5})) << "one call for the whole round";
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3}));
  bus.publish(build(EventType::LogLines, "b"));  // queued behind the two it left
  runPosted();
  EXPECT_EQ(seen.size(), 3u) << "busy: only the retry timer delivers";
  room = 100;
  clock.advance(std::chrono::milliseconds(50));
  EXPECT_EQ(offered, (std::vector<std::size_t>{5, 3}));
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(EventBusTest, ABatchSubscriberThatPublishesGetsItsOwnEventsAfterTheBatchInOrder) {
  // Publishing outside a transaction releases at once: the new events are
  // queued while the batch is being read.
  EventBus direct{clock, [this](std::function<void()> fn) { tasks.push_back(std::move(fn)); },
                  [](std::function<void()> fn) { fn(); }};
  std::vector<std::uint64_t> seen;
  int calls = 0;
  Subscriber s;
  s.name = "republisher";
  s.deliverBatch = [&](std::span<const std::shared_ptr<const Event>> evs) {
    ++calls;
    std::size_t n = 0;
    for (const auto& e : evs) {
      seen.push_back(e->seq);
      // Takes one only on the first call, after publishing two: the one it
      // leaves must come back before the two it published.
      if (calls == 1) {
        direct.publish(build(EventType::StepStarted, "b"));
        direct.publish(build(EventType::StepStarted, "b"));
        return std::size_t{1};
      }
      ++n;
    }
    return n;
  };
  direct.subscribe(std::move(s));
  direct.publish(build(EventType::BuildStarted, "b"));
  direct.publish(build(EventType::BuildStarted, "b"));
  runPosted();
  clock.advance(std::chrono::milliseconds(50));
  runPosted();
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(direct.subscriberCount(), 1u);
}

TEST_F(EventBusTest, AThrowingBatchSubscriberIsDroppedWithTheReason) {
  std::string reason;
  Subscriber s;
  s.name = "batch thrower";
  s.deliverBatch = [](std::span<const std::shared_ptr<const Event>>) -> std::size_t {
    throw std::runtime_error("bad batch");
  };
  s.dropped = [&](const std::string& why) { reason = why; };
  std::vector<std::uint64_t> healthy;
  bus.subscribe(std::move(s));
  bus.subscribe(collect("healthy", {}, healthy));
  bus.publish(build(EventType::BuildStarted, "b"));
  runPosted();
  runPosted();
  EXPECT_NE(reason.find("bad batch"), std::string::npos) << reason;
  EXPECT_NE(reason.find("build.started 1 or after it"), std::string::npos) << reason;
  EXPECT_EQ(healthy.size(), 1u);
  EXPECT_EQ(bus.subscriberCount(), 1u);
}

// A subscriber with `every` gets one round per interval, however many
// rounds the others get; what came meanwhile waits and arrives whole, in
// order, when the interval is over, and resume() does not jump the wait.
TEST_F(EventBusTest, ASubscriberWithAnIntervalGetsOneRoundPerIntervalWithEverythingInOrder) {
  std::vector<std::vector<std::uint64_t>> rounds;
  Subscriber s;
  s.name = "paced";
  s.every = std::chrono::milliseconds(50);
  s.deliverBatch = [&](std::span<const std::shared_ptr<const Event>> evs) {
    rounds.emplace_back();
    for (const auto& e : evs) rounds.back().push_back(e->seq);
    return evs.size();
  };
  const auto paced = bus.subscribe(std::move(s)).id;
  std::vector<std::uint64_t> eager;
  bus.subscribe(collect("eager", {}, eager));

  bus.publish(build(EventType::BuildStarted, "b"));
  runPosted();
  ASSERT_EQ(rounds.size(), 1u);  // the first round is at once
  for (int i = 0; i < 3; ++i) {  // three more rounds for the others within the interval
    bus.publish(build(EventType::StepStarted, "b"));
    runPosted();
    clock.advance(std::chrono::milliseconds(10));
    runPosted();
  }
  bus.resume(paced);
  EXPECT_EQ(eager.size(), 4u);
  EXPECT_EQ(rounds.size(), 1u) << "a paced subscriber got a round within its interval";
  clock.advance(std::chrono::milliseconds(25));  // the interval is over
  runPosted();
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[1], (std::vector<std::uint64_t>{2, 3, 4}));
  // Nothing waiting: no empty round.
  clock.advance(std::chrono::milliseconds(200));
  runPosted();
  EXPECT_EQ(rounds.size(), 2u);
  // After a quiet interval the next event goes at once again.
  bus.publish(build(EventType::BuildFinished, "b"));
  runPosted();
  ASSERT_EQ(rounds.size(), 3u);
  EXPECT_EQ(rounds[2], (std::vector<std::uint64_t>{5}));
}

}  // namespace
}  // namespace bb
