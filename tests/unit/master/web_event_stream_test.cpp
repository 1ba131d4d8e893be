// The web's event stream (master/web/event_stream.cpp) on a real EventBus
// with a sink standing in for the socket: filtering, ids, backpressure and
// dropping a client that falls behind, unsubscribing when it leaves.
#include <gtest/gtest.h>

#include <deque>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/changes/change_bus.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/schedulers/scheduler_set.hpp"
#include "master/status/rpc_handler.hpp"
#include "master/web/router.hpp"
#include "master/web/web_auth.hpp"
#include "master/web/web_context.hpp"

namespace bb::web {
namespace {

class FakeSink : public StreamSink {
 public:
  using StreamSink::push;
  bool push(std::shared_ptr<const std::string> piece) override {
    if (finished) return false;
    pieces.push_back(*piece);
    shared.push_back(std::move(piece));
    return true;
  }
  std::size_t queued() const override { return busyBytes; }
  void finish(std::string last) override {
    finished = true;
    lastPiece = std::move(last);
  }
  std::string all() const {
    std::string out;
    for (const auto& p : pieces) out += p;
    return out;
  }
  std::vector<std::string> pieces;
  std::vector<std::shared_ptr<const std::string>> shared;
  std::size_t busyBytes = 0;
  bool finished = false;
  std::string lastPiece;
};

class WebEventStream : public ::testing::Test {
 protected:
  WebEventStream() {
    db.upgrade();
    addEventStream(router, ctx);
  }
  void runPosted() {
    for (int i = 0; i < 100000 && !tasks.empty(); ++i) {
      auto t = std::move(tasks.front());
      tasks.pop_front();
      t();
    }
  }
  HttpResponse get(const std::string& target) {
    HttpRequest req;
    req.method = "GET";
    req.target = target;
    req.remote = "127.0.0.1";
    splitTarget(req);
    return router.dispatch(req);
  }
  void publish(EventType t, const std::string& builder) {
    Event e;
    e.type = t;
    e.builder = builder;
    bus.publish(std::move(e));
  }

  ManualClock clock;
  db::Database db{":memory:"};
  std::deque<std::function<void()>> tasks;
  EventBus bus{clock, [this](std::function<void()> fn) { tasks.push_back(std::move(fn)); },
               [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  MasterConfig config;
  ChangeBus changes{db, bus};
  BuildsetService buildsets{db, bus};
  SchedulerSet schedulers{SchedulerContext{db, clock, buildsets, "", nullptr}, changes};
  RpcHandler rpc{db, changes, schedulers, buildsets, [this]() -> const MasterConfig& { return config; }};
  WebAuth auth{[this]() -> const MasterConfig& { return config; }};
  WebContext ctx{db, [this]() -> const MasterConfig& { return config; }, rpc, schedulers, nullptr, nullptr, bus, auth, {}};
  Router router;
};

TEST_F(WebEventStream, DeliversMatchingEventsWithTheirIds) {
  HttpResponse res = get("/api/v2/events?topics=build&builder=b1");
  ASSERT_TRUE(res.events);
  EXPECT_EQ(res.contentType, "text/event-stream");
  auto sink = std::make_shared<FakeSink>();
  res.events(sink);
  publish(EventType::ChangeAdded, "");
  publish(EventType::BuildStarted, "b2");
  publish(EventType::BuildStarted, "b1");
  runPosted();
  const std::string got = sink->all();
  EXPECT_NE(got.find("id: 3\nevent: build.started\ndata: {"), std::string::npos) << got;
  EXPECT_EQ(got.find("change.added"), std::string::npos) << got;
  EXPECT_EQ(got.find("\"b2\""), std::string::npos) << got;
}

TEST_F(WebEventStream, ClientsShareOneTextPerEventInsteadOfACopyEach) {
  auto a = std::make_shared<FakeSink>();
  auto b = std::make_shared<FakeSink>();
  get("/api/v2/events").events(a);
  get("/api/v2/events?topics=build").events(b);
  publish(EventType::BuildStarted, "b1");
  runPosted();
  // Each got "retry:" first, then the event.
  ASSERT_EQ(a->shared.size(), 2u);
  ASSERT_EQ(b->shared.size(), 2u);
  EXPECT_NE(a->shared[1]->find("event: build.started"), std::string::npos) << *a->shared[1];
  EXPECT_EQ(a->shared[1].get(), b->shared[1].get()) << "the event's text was copied per client";
}

TEST_F(WebEventStream, ResumesAfterLastEventId) {
  publish(EventType::BuildStarted, "b1");
  publish(EventType::BuildFinished, "b1");
  runPosted();
  HttpRequest req;
  req.method = "GET";
  req.target = "/api/v2/events";
  req.headers["last-event-id"] = "1";
  splitTarget(req);
  HttpResponse res = router.dispatch(req);
  auto sink = std::make_shared<FakeSink>();
  res.events(sink);
  runPosted();
  const std::string got = sink->all();
  EXPECT_EQ(got.find("id: 1\n"), std::string::npos) << got;
  EXPECT_NE(got.find("id: 2\nevent: build.finished"), std::string::npos) << got;
}

TEST_F(WebEventStream, AClientThatFallsBehindIsToldAndDropped) {
  HttpResponse res = get("/api/v2/events");
  auto sink = std::make_shared<FakeSink>();
  res.events(sink);
  sink->busyBytes = 10 * 1024 * 1024;  // its socket does not drain
  for (int i = 0; i < 2100; ++i) publish(EventType::StepStarted, "b1");
  runPosted();
  EXPECT_TRUE(sink->finished);
  EXPECT_NE(sink->lastPiece.find("event: dropped"), std::string::npos) << sink->lastPiece;
  EXPECT_EQ(bus.subscriberCount(), 0u);
}

TEST_F(WebEventStream, ABusyClientCatchesUpWhenItDrainsAndLeavingUnsubscribes) {
  HttpResponse res = get("/api/v2/events");
  auto sink = std::make_shared<FakeSink>();
  res.events(sink);
  sink->busyBytes = 10 * 1024 * 1024;
  for (int i = 0; i < 10; ++i) publish(EventType::StepStarted, "b1");
  runPosted();
  EXPECT_EQ(sink->all().find("event: step.started"), std::string::npos);
  sink->busyBytes = 0;
  ASSERT_TRUE(sink->onDrained);
  sink->onDrained();
  runPosted();
  EXPECT_NE(sink->all().find("id: 10\n"), std::string::npos) << sink->all();
  EXPECT_FALSE(sink->finished);
  ASSERT_TRUE(sink->onClosed);
  sink->onClosed();
  EXPECT_EQ(bus.subscriberCount(), 0u);
}

TEST_F(WebEventStream, BadFiltersAre400) {
  EXPECT_EQ(get("/api/v2/events?topics=nope").status, 400);
  EXPECT_EQ(get("/api/v2/events?build_id=x").status, 400);
  EXPECT_EQ(get("/api/v2/events?colour=red").status, 400);
  EXPECT_EQ(get("/api/v2/events?last_event_id=x").status, 400);
}

}  // namespace
}  // namespace bb::web
