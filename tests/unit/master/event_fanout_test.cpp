// EventFanout: clients watching the same thing share one bus subscriber
// and one encoding of each frame's events, over real loopback connections.
// Each member still gets exactly its events (after it joined, in order,
// once, under its own subscription id); one whose connection backs up
// leaves the group with the seq of the last event it was sent.
#include "master/port/event_fanout.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <map>
#include <optional>

#include "common/connection.hpp"
#include "common/events_zstd.hpp"
#include "master/events/event_bus.hpp"

namespace bb {
namespace {

// A client end that records the Events frames it reads, per subscription.
struct Reader {
  std::shared_ptr<Connection> conn;
  std::map<std::uint64_t, std::vector<std::uint64_t>> seqs;  // subscription -> seqs
  std::size_t frames = 0;
  std::size_t largest = 0;  // events in its biggest frame
  std::size_t compressed = 0;  // frames that came with events_zstd
  std::map<std::uint64_t, std::vector<Json>> events;  // subscription -> the events themselves
  bool paused = false;
  void start() {
    conn->start(
        [this](Message&& m) {
          if (m.type != MsgType::Events) return;
          ++frames;
          if (m.body.contains("events_zstd")) ++compressed;
          const Json body = expandEvents(std::move(m.body));  // as MasterClient reads them
          largest = std::max(largest, body.at("events").size());
          const auto id = body.at("subscription_id").get<std::uint64_t>();
          auto& v = seqs[id];
          for (const auto& e : body.at("events")) {
            v.push_back(e.at("seq").get<std::uint64_t>());
            events[id].push_back(e);
          }
        },
        [](const std::string&) {});
  }
};

class EventFanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = std::make_unique<Listener>(io_, "127.0.0.1", 0, ConnectionOptions{},
                                           [this](std::shared_ptr<Connection> c) {
                                             c->start([](Message&&) {}, [](const std::string&) {});
                                             accepted_.push_back(c);
                                           });
  }
  // A connected pair: the master's end (what the fanout writes to) and a
  // reader at the other.
  std::pair<std::shared_ptr<Connection>, std::unique_ptr<Reader>> connectPair() {
    auto reader = std::make_unique<Reader>();
    const std::size_t before = accepted_.size();
    Connection::connect(io_, "127.0.0.1", listener_->port(), ConnectionOptions{},
                        [&](std::shared_ptr<Connection> c, const std::string&) { reader->conn = c; });
    runUntil([&] { return reader->conn && accepted_.size() > before; });
    reader->start();
    return {accepted_.back(), std::move(reader)};
  }
  template <class Pred>
  bool runUntil(Pred done, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }
  Event event(const std::string& builder, std::size_t dataBytes = 0) {
    Event e;
    e.type = EventType::BuildStarted;
    e.builder = builder;
    if (dataBytes) e.data = Json{{"text", std::string(dataBytes, 'x')}};
    return e;
  }
  EventFanout::Member member(std::uint64_t id, const std::shared_ptr<Connection>& c) {
    EventFanout::Member m;
    m.subscriptionId = id;
    m.conn = c;
    m.left = [this, id](std::uint64_t lastSeq) { left_[id] = lastSeq; };
    m.dropped = [](const std::string& why) { ADD_FAILURE() << "dropped: " << why; };
    return m;
  }
  static EventFilter builderFilter(const std::string& b) {
    EventFilter f;
    f.builder = b;
    return f;
  }
  static std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
    std::vector<std::uint64_t> v;
    for (auto s = from; s <= to; ++s) v.push_back(s);
    return v;
  }

  boost::asio::io_context io_;
  AsioClock clock_{io_};
  EventBus bus_{clock_, [this](std::function<void()> fn) { postTo(io_, std::move(fn)); },
                [](std::function<void()> fn) { fn(); }};
  std::unique_ptr<Listener> listener_;
  std::vector<std::shared_ptr<Connection>> accepted_;
  std::map<std::uint64_t, std::uint64_t> left_;  // member -> lastSeq it left with
};

TEST_F(EventFanoutTest, ClientsWatchingTheSameThingShareOneBusSubscriberAndEachGetsItsEventsInOrder) {
  EventFanout fanout(bus_, clock_);
  auto m1_r1 = connectPair();
  auto m1 = m1_r1.first;
  Reader* r1 = m1_r1.second.get();
  auto m2_r2 = connectPair();
  auto m2 = m2_r2.first;
  Reader* r2 = m2_r2.second.get();
  auto m3_r3 = connectPair();
  auto m3 = m3_r3.first;
  Reader* r3 = m3_r3.second.get();
  EXPECT_EQ(fanout.join(EventFilter{}, member(11, m1)), 0u);
  fanout.join(EventFilter{}, member(12, m2));
  fanout.join(builderFilter("b"), member(13, m3));
  EXPECT_EQ(fanout.groupCount(), 2u);
  EXPECT_EQ(bus_.subscriberCount(), 2u);
  EXPECT_FALSE(EventFanout::shareable([] {
    EventFilter f;
    f.changeId = 7;
    return f;
  }()));

  constexpr std::uint64_t kEvents = 3 * kEventsPerFrame + 8;  // more than one frame's worth
  for (std::uint64_t i = 0; i < kEvents; ++i) bus_.publish(event(i % 2 ? "a" : "b"));
  ASSERT_TRUE(runUntil([&] {
    return r1->seqs[11].size() == kEvents && r2->seqs[12].size() == kEvents && r3->seqs[13].size() == kEvents / 2;
  })) << r1->seqs[11].size() << " " << r2->seqs[12].size() << " " << r3->seqs[13].size();
  EXPECT_EQ(r1->seqs[11], range(1, kEvents));
  EXPECT_EQ(r2->seqs[12], range(1, kEvents));
  std::vector<std::uint64_t> bs;
  for (std::uint64_t s = 1; s <= kEvents; s += 2) bs.push_back(s);  // builder b: events 1, 3, ...
  EXPECT_EQ(r3->seqs[13], bs);
  // Only its own subscription, in frames of at most kMaxBatch events.
  EXPECT_EQ(r1->seqs.size(), 1u);
  EXPECT_GE(r1->frames, kEvents / kEventsPerFrame + 1);
  EXPECT_EQ(r1->largest, kEventsPerFrame);

  // The last one to leave a group ends its bus subscriber.
  fanout.leave(13);
  EXPECT_EQ(fanout.groupCount(), 1u);
  EXPECT_EQ(bus_.subscriberCount(), 1u);
  fanout.leave(11);
  fanout.leave(12);
  EXPECT_EQ(bus_.subscriberCount(), 0u);
  EXPECT_TRUE(left_.empty());
}

TEST_F(EventFanoutTest, AMemberGetsOnlyWhatWasPublishedAfterItJoinedAlsoWhileAFrameIsFilling) {
  EventFanout fanout(bus_, clock_);
  auto m1_r1 = connectPair();
  auto m1 = m1_r1.first;
  Reader* r1 = m1_r1.second.get();
  auto m2_r2 = connectPair();
  auto m2 = m2_r2.first;
  Reader* r2 = m2_r2.second.get();
  fanout.join(EventFilter{}, member(21, m1));
  for (int i = 0; i < 5; ++i) bus_.publish(event("a"));
  // Published (seq 1..5) but not yet delivered to the group: the second
  // member joins after them, so they are not its.
  EXPECT_EQ(fanout.join(EventFilter{}, member(22, m2)), 5u);
  for (int i = 0; i < 3; ++i) bus_.publish(event("a"));
  ASSERT_TRUE(runUntil([&] { return r1->seqs[21].size() == 8 && r2->seqs[22].size() == 3; }));
  EXPECT_EQ(r1->seqs[21], range(1, 8));
  EXPECT_EQ(r2->seqs[22], range(6, 8));
}

TEST_F(EventFanoutTest, MembersThatAskForCompressionGetTheSameEventsCompressedOnceForAll) {
  EventFanout fanout(bus_, clock_);
  auto plain_rp = connectPair();
  Reader* rp = plain_rp.second.get();
  auto z1_r1 = connectPair();
  Reader* r1 = z1_r1.second.get();
  auto z2_r2 = connectPair();
  Reader* r2 = z2_r2.second.get();
  fanout.join(EventFilter{}, member(41, plain_rp.first));
  auto zm = [&](std::uint64_t id, const std::shared_ptr<Connection>& c) {
    auto m = member(id, c);
    m.zstd = true;
    return m;
  };
  fanout.join(EventFilter{}, zm(42, z1_r1.first));
  for (int i = 0; i < 5; ++i) bus_.publish(event("a", 100));
  // Joins while those five fill the body: of that frame it gets only the
  // end, which goes to it uncompressed; later frames come compressed.
  fanout.join(EventFilter{}, zm(43, z2_r2.first));
  for (int i = 0; i < 3; ++i) bus_.publish(event("b", 100));
  ASSERT_TRUE(runUntil([&] { return rp->seqs[41].size() == 8 && r1->seqs[42].size() == 8 && r2->seqs[43].size() == 3; }));
  constexpr std::uint64_t kMore = 2 * kEventsPerFrame + 10;
  for (std::uint64_t i = 0; i < kMore; ++i) bus_.publish(event(i % 2 ? "a" : "b", 50));
  ASSERT_TRUE(runUntil([&] {
    return rp->seqs[41].size() == 8 + kMore && r1->seqs[42].size() == 8 + kMore && r2->seqs[43].size() == 3 + kMore;
  })) << rp->seqs[41].size() << " " << r1->seqs[42].size() << " " << r2->seqs[43].size();
  // The very same events, whichever form they came in.
  EXPECT_EQ(r1->events[42], rp->events[41]);
  EXPECT_EQ(r2->events[43], std::vector<Json>(rp->events[41].begin() + 5, rp->events[41].end()));
  EXPECT_EQ(r1->seqs[42], range(1, 8 + kMore));
  EXPECT_EQ(rp->compressed, 0u);
  EXPECT_EQ(r1->compressed, r1->frames);  // every frame, it had every frame whole
  EXPECT_GE(r1->frames, 3u);
  EXPECT_EQ(r2->compressed, r2->frames - 1);  // all but the one it joined in the middle of
  EXPECT_LE(r1->largest, kEventsPerFrame);
}

TEST_F(EventFanoutTest, AMemberWhoseConnectionBacksUpLeavesWithTheLastEventItWasSentAndTheOthersGoOn) {
  EventFanout fanout(bus_, clock_);
  auto fast_rf = connectPair();
  auto fast = fast_rf.first;
  Reader* rf = fast_rf.second.get();
  auto slow_rs = connectPair();
  auto slow = slow_rs.first;
  Reader* rs = slow_rs.second.get();
  fanout.join(EventFilter{}, member(31, fast));
  fanout.join(EventFilter{}, member(32, slow));
  rs->conn->pauseReading();  // its frames pile up in the socket, then in the master's queue

  // 4 KiB events, published a frame's worth at a time, until the slow
  // member's connection holds more than kBusyBytes (kernel buffers first).
  std::uint64_t published = 0;
  for (int round = 0; round < 400 && !left_.count(32); ++round) {
    for (int i = 0; i < 50; ++i, ++published) bus_.publish(event("a", 4096));
    runUntil([&] { return rf->seqs[31].size() == published || left_.count(32); }, std::chrono::seconds(5));
  }
  ASSERT_TRUE(left_.count(32)) << "never backed up after " << published << " events";
  ASSERT_TRUE(runUntil([&] { return rf->seqs[31].size() == published; }));
  EXPECT_EQ(rf->seqs[31], range(1, published));
  EXPECT_EQ(bus_.subscriberCount(), 1u);  // the group, for the one left

  // What it was sent before it left arrives whole, and ends where `left` said.
  const std::uint64_t lastSeq = left_.at(32);
  EXPECT_GT(lastSeq, 0u);
  EXPECT_LT(lastSeq, published);
  rs->conn->resumeReading();
  ASSERT_TRUE(runUntil([&] { return !rs->seqs[32].empty() && rs->seqs[32].back() == lastSeq; }))
      << (rs->seqs[32].empty() ? 0 : rs->seqs[32].back()) << " of " << lastSeq;
  EXPECT_EQ(rs->seqs[32], range(1, lastSeq));

  // It is no longer a member: nothing more comes to it from the group.
  bus_.publish(event("a"));
  ASSERT_TRUE(runUntil([&] { return rf->seqs[31].size() == published + 1; }));
  io_.restart();
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(rs->seqs[32].back(), lastSeq);
}

}  // namespace
}  // namespace bb
