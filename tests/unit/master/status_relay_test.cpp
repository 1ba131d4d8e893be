// Status relayed between masters (StatusRelay): a heard token becomes the
// event the master that ran the build published, read back from the rows;
// a malformed or unknown token is refused with a reason. And report claims
// (ReportClaims): which of several masters reports an event.
#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/cluster/status_relay.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/reporters/report_claims.hpp"

namespace bb {
namespace {

class StatusRelayTest : public ::testing::Test {
 protected:
  StatusRelayTest() {
    db.upgrade();
    Subscriber s;
    s.name = "test";
    s.filter.otherMasters = true;
    s.deliver = [this](const Event& e) {
      seen.push_back(e);
      return true;
    };
    bus.subscribe(std::move(s));
  }
  void runPosted() {
    while (!tasks.empty()) {
      auto t = std::move(tasks.front());
      tasks.pop_front();
      t();
    }
  }
  // A BuildSet with a request for b1, built by a finished build whose one
  // step has its stdio log.
  void makeBuild() {
    master = db.registerMaster("ma", 100);
    db::BuildsetRecord bs;
    bs.reason = "forced";
    bs.scheduler = "force";
    bs.sourcestamp.branch = "main";
    bs.sourcestamp.revision = "r1";
    const auto created = db.addBuildset(bs, {"b1"}, 3);
    buildsetId = created.first;
    requestId = created.second.at("b1");
    build = db.addBuild(master, requestId, "b1", "s1", 100, Json::object());
    stepId = db.addStep(build.id, 1, "compile", 101);
    logId = db.addLog(stepId, "stdio");
    db.finishStep(stepId, Result::Failure, "exit code 2", 104);
    db.setBuildProperties(build.id, Json{{"lock_wait_seconds", Json::array({1.5, "Locks"})}});
    db.finishBuild(build.id, Result::Failure, "failed compile", 105);
  }
  bool relay(const std::string& token) {
    why.clear();
    const bool ok = relayer.relay(token, why);
    runPosted();
    return ok;
  }

  ManualClock clock;
  db::Database db{":memory:"};
  std::deque<std::function<void()>> tasks;
  EventBus bus{clock, [this](std::function<void()> fn) { tasks.push_back(std::move(fn)); },
               [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  StatusRelay relayer{db, bus};
  std::vector<Event> seen;
  std::string why;
  db::MasterId master;
  db::BuildRecord build;
  std::int64_t buildsetId = 0, requestId = 0, stepId = 0, logId = 0;
};

TEST_F(StatusRelayTest, EachTokenPublishesTheEventOfItsRowsMarkedFromAnotherMaster) {
  makeBuild();
  for (const std::string& t : {"c" + std::to_string(buildsetId), "s" + std::to_string(build.id),
                              "t" + std::to_string(stepId), "u" + std::to_string(stepId),
                              "f" + std::to_string(build.id)})
    ASSERT_TRUE(relay(t)) << t << ": " << why;
  ASSERT_EQ(seen.size(), 6u);
  for (const auto& e : seen) EXPECT_TRUE(e.fromOtherMaster) << toString(e.type);

  EXPECT_EQ(seen[0].type, EventType::BuildsetCreated);
  EXPECT_EQ(seen[0].buildsetId, buildsetId);
  EXPECT_EQ(seen[0].scheduler, "force");
  EXPECT_EQ(seen[0].data["reason"], "forced");
  EXPECT_EQ(seen[0].data["revision"], "r1");
  EXPECT_EQ(seen[0].data["requests"], (Json{{"b1", requestId}}));
  EXPECT_EQ(seen[1].type, EventType::RequestCreated);
  EXPECT_EQ(seen[1].requestId, requestId);
  EXPECT_EQ(seen[1].builder, "b1");
  EXPECT_EQ(seen[1].data["priority"], 3);

  const Event& started = seen[2];
  EXPECT_EQ(started.type, EventType::BuildStarted);
  EXPECT_EQ(started.builder, "b1");
  EXPECT_EQ(started.slave, "s1");
  EXPECT_EQ(started.buildId, build.id);
  EXPECT_EQ(started.requestId, requestId);
  EXPECT_EQ(started.buildsetId, buildsetId);
  EXPECT_EQ(started.data, (Json{{"number", 1}, {"slave", "s1"}}));

  EXPECT_EQ(seen[3].type, EventType::StepStarted);
  EXPECT_EQ(seen[3].data, (Json{{"number", 1}, {"step", 1}, {"name", "compile"}, {"step_id", stepId}, {"log_id", logId}}));
  EXPECT_EQ(seen[4].type, EventType::StepFinished);
  EXPECT_EQ(seen[4].data, (Json{{"number", 1}, {"step", 1}, {"name", "compile"}, {"step_id", stepId},
                                {"result", "failure"}, {"text", "exit code 2"}}));
  const Event& finished = seen[5];
  EXPECT_EQ(finished.type, EventType::BuildFinished);
  EXPECT_EQ(finished.buildsetId, buildsetId);
  EXPECT_EQ(finished.data["result"], "failure");
  EXPECT_EQ(finished.data["text"], "failed compile");
  EXPECT_EQ(finished.data["duration_seconds"], 5);
  EXPECT_EQ(finished.data["lock_wait_seconds"], 1.5);
}

TEST_F(StatusRelayTest, ABadOrUnknownTokenIsRefusedWithAReasonAndPublishesNothing) {
  makeBuild();
  EXPECT_FALSE(relay("s"));
  EXPECT_NE(why.find("malformed"), std::string::npos) << why;
  EXPECT_FALSE(relay("s-4"));
  EXPECT_FALSE(relay("s12x"));
  EXPECT_FALSE(relay("x" + std::to_string(build.id)));
  EXPECT_NE(why.find("unknown"), std::string::npos) << why;
  EXPECT_FALSE(relay("f999"));
  EXPECT_NE(why.find("build 999 is not in the database"), std::string::npos) << why;
  EXPECT_FALSE(relay("u999"));
  EXPECT_FALSE(relay("c999"));
  // A build announced finished whose row does not say so (never: the
  // notification follows the commit) is refused, not published half-made.
  const auto running = db.addBuild(master, 0, "b2", "s1", 200, Json::object());
  EXPECT_FALSE(relay("f" + std::to_string(running.id)));
  EXPECT_NE(why.find("not"), std::string::npos) << why;
  EXPECT_TRUE(seen.empty());
}

TEST_F(StatusRelayTest, TokensAreMadeForLocalStatusEventsOnly) {
  Event e;
  e.type = EventType::BuildStarted;
  e.buildId = 7;
  EXPECT_EQ(StatusRelay::tokenFor(e), "s7");
  e.type = EventType::StepFinished;
  e.data = Json{{"step_id", 9}};
  EXPECT_EQ(StatusRelay::tokenFor(e), "u9");
  e.fromOtherMaster = true;  // never echoed back
  EXPECT_EQ(StatusRelay::tokenFor(e), std::nullopt);
  Event log;
  log.type = EventType::LogLines;
  log.buildId = 7;
  EXPECT_EQ(StatusRelay::tokenFor(log), std::nullopt) << "no log id";
  log.data = Json{{"step", 1}, {"log_id", 5}, {"first_byte", 100}, {"end_byte", 250}, {"newlines", 3}};
  EXPECT_EQ(StatusRelay::tokenFor(log), "l5.100.250.3") << "the range travels in the token";
  Event noRow;
  noRow.type = EventType::BuildFinished;  // a build that failed before its row
  EXPECT_EQ(StatusRelay::tokenFor(noRow), std::nullopt);
}

TEST_F(StatusRelayTest, ReportClaimsLetOneMasterReportARelayedKindAndEveryMasterItsOwnOthers) {
  const db::MasterId a = db.registerMaster("ma", 100);
  const db::MasterId b = db.registerMaster("mb", 100);
  ReportClaims onA(db, a, clock), onB(db, b, clock);
  Event fin;
  fin.type = EventType::BuildFinished;
  fin.buildId = 4;
  EXPECT_EQ(ReportClaims::subjectOf(fin), "build.finished 4");
  EXPECT_TRUE(onB.mine("mail:m", fin));
  EXPECT_FALSE(onA.mine("mail:m", fin));
  EXPECT_TRUE(onA.mine("irc:m", fin));
  // What no other master hears of is always this master's: no claim.
  Event slave;
  slave.type = EventType::SlaveAttached;
  slave.slave = "s1";
  EXPECT_EQ(ReportClaims::subjectOf(slave), "");
  EXPECT_TRUE(onA.mine("http_push:h", slave));
  EXPECT_TRUE(onB.mine("http_push:h", slave));
  // A log's output is relayed too: each range is claimed once.
  Event lines;
  lines.type = EventType::LogLines;
  lines.buildId = 4;
  lines.data = Json{{"log_id", 6}, {"first_byte", 0}, {"end_byte", 100}};
  EXPECT_EQ(ReportClaims::subjectOf(lines), "log.lines 6:100");
  EXPECT_TRUE(onA.mine("http_push:h", lines));
  EXPECT_FALSE(onB.mine("http_push:h", lines));
  lines.data = Json{{"log_id", 6}, {"first_byte", 100}, {"end_byte", 180}};
  EXPECT_TRUE(onB.mine("http_push:h", lines)) << "the next range is a new claim";
}

// log.lines: the range comes in the token, the keys from the log's rows
// (read once per log); with nobody here who may want it, nothing is read.
TEST_F(StatusRelayTest, LogLinesCarryTheirRangeAndTheKeysOfTheirBuild) {
  makeBuild();
  const std::string log = "l" + std::to_string(logId);
  ASSERT_TRUE(relay(log + ".0.120.4")) << why;
  ASSERT_TRUE(relay(log + ".120.130.1")) << why;
  ASSERT_EQ(seen.size(), 2u);
  const Event& e = seen[0];
  EXPECT_EQ(e.type, EventType::LogLines);
  EXPECT_TRUE(e.fromOtherMaster);
  EXPECT_EQ(e.builder, "b1");
  EXPECT_EQ(e.slave, "s1");
  EXPECT_EQ(e.buildId, build.id);
  EXPECT_EQ(e.requestId, requestId);
  EXPECT_EQ(e.buildsetId, buildsetId);
  EXPECT_EQ(e.data, (Json{{"number", 1}, {"step", 1}, {"log_id", logId}, {"first_byte", 0}, {"end_byte", 120},
                          {"newlines", 4}}));
  EXPECT_EQ(seen[1].data["first_byte"], 120);
  EXPECT_EQ(seen[1].data["end_byte"], 130);
  EXPECT_EQ(seen[1].buildId, build.id);

  for (const std::string bad : {"l", "l5", "l5.1.2", "l5.3.2.1", "l5.0.1.1x", "l-5.0.1.1", "l5.0..1", "l0.0.1.1"}) {
    EXPECT_FALSE(relay(bad)) << bad;
    EXPECT_NE(why.find("malformed"), std::string::npos) << bad << ": " << why;
  }
  EXPECT_FALSE(relay("l999.0.10.1"));
  EXPECT_NE(why.find("log 999"), std::string::npos) << why;
  EXPECT_EQ(seen.size(), 2u);
}

TEST(StatusRelay, EventsNobodyHereMayWantAreNotReadAtAll) {
  ManualClock clock;
  db::Database db{":memory:"};  // no schema: any read would throw
  std::deque<std::function<void()>> tasks;
  EventBus bus{clock, [&](std::function<void()> fn) { tasks.push_back(std::move(fn)); },
               [&](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  Subscriber local;
  local.name = "reporter of this master's builds only";
  local.deliver = [](const Event&) { return true; };
  bus.subscribe(std::move(local));
  Subscriber builds;
  builds.name = "watch of other masters' builds";
  builds.filter.otherMasters = true;
  builds.filter.topics = {"build"};
  builds.deliver = [](const Event&) { return true; };
  bus.subscribe(std::move(builds));
  StatusRelay relayer{db, bus};
  std::string why;
  EXPECT_TRUE(relayer.relay("l999.0.10.1", why)) << why;
  EXPECT_TRUE(relayer.relay("t999", why)) << why;
  EXPECT_TRUE(relayer.relay("u999", why)) << why;
  EXPECT_TRUE(relayer.relay("c999", why)) << "neither buildset.created nor request.created is wanted: " << why;
  EXPECT_FALSE(relayer.relay("l999.0", why)) << "a malformed token is still refused";
  EXPECT_FALSE(relayer.relay("t9x", why)) << "a malformed token is still refused";
  // A build event is wanted here: its rows are read (and this database
  // has no tables).
  EXPECT_THROW(relayer.relay("f999", why), std::exception);
}

// Another master's completed BuildSet is read (and buildset.completed
// published) only while something here may take it.
TEST_F(StatusRelayTest, ABuildsetCompletedElsewhereIsReadOnlyWhenSomethingHereMayTakeIt) {
  makeBuild();
  ASSERT_TRUE(db.completeRequest(requestId, Result::Failure, 106).has_value());
  BuildsetService buildsets(db, bus);
  EXPECT_TRUE(buildsets.completedElsewhere(buildsetId));
  runPosted();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, EventType::BuildsetCompleted);
  EXPECT_TRUE(seen[0].fromOtherMaster);
  EXPECT_FALSE(buildsets.completedElsewhere(999)) << "unknown: not published";

  EventBus quiet{clock, [this](std::function<void()> fn) { tasks.push_back(std::move(fn)); },
                 [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService alone(db, quiet);
  EXPECT_TRUE(alone.completedElsewhere(999)) << "nobody may take it: not read, nothing to say";
}

TEST(ReportClaims, AClaimTheDatabaseCannotAnswerCountsAsWon) {
  ManualClock clock;
  db::Database db{":memory:"};  // no schema: every claim fails
  ReportClaims claims(db, db::MasterId{1}, clock);
  Event fin;
  fin.type = EventType::BuildFinished;
  fin.buildId = 4;
  EXPECT_TRUE(claims.mine("mail:m", fin));
  EXPECT_TRUE(claims.mine("mail:m", fin));
}

}  // namespace
}  // namespace bb
