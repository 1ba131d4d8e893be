// The triggerable scheduler and the trigger step against an in-memory
// database: BuildSets made with their parent, the child's properties and
// source stamp, waiting for completions (announced by hand here, as the
// distributor does), stopping, and a scheduler gone at run time.
#include <gtest/gtest.h>

#include <optional>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/events/event_bus.hpp"
#include "master/changes/change_bus.hpp"
#include "master/db/database.hpp"
#include "master/process/log_writer.hpp"
#include "master/process/steps/trigger_step.hpp"
#include "master/schedulers/scheduler_set.hpp"
#include "master/schedulers/triggerable.hpp"

namespace bb {
namespace {

class TriggerableTest : public ::testing::Test {
 protected:
  TriggerableTest() : db(":memory:"), buildsets(db, events), bus(db, events) {
    db.upgrade();
    // "wakes": request.created events, which wake the distributor.
    Subscriber s;
    s.name = "test";
    s.filter.types = {EventType::RequestCreated};
    s.deliver = [this](const Event&) {
      ++wakes;
      return true;
    };
    events.subscribe(std::move(s));
    db::BuildsetRecord bs;
    bs.scheduler = "force";
    bs.reason = "forced";
    bs.sourcestamp = {"repo.git", "main", "abc", "proj", {}};
    auto made = db.addBuildset(bs, {"parent"}, 0);
    parentBuildset = made.first;
    parentRequest = made.second.at("parent");
    parent = db.addBuild(db.registerMaster("m", 1), parentRequest, "parent", "s1", 1, Json::object());
    stepId = db.addStep(parent.id, 1, "trigger", 1);
    log.emplace(db, db.addLog(stepId, "stdio"));
    props.set("branch", "main", "Build");
    props.set("owner", "alice", "Force");
    props.set("buildername", "parent", "Builder");
  }

  SchedulerEntry triggerable(const std::string& name, std::vector<std::string> builders) {
    SchedulerEntry e;
    e.name = name;
    e.type = "triggerable";
    e.builders = std::move(builders);
    e.priority = 7;
    e.properties = Json{{"from_scheduler", "yes"}, {"who", "scheduler"}};
    return e;
  }

  TriggerOptions options(std::vector<std::string> schedulers, bool wait) {
    TriggerOptions o;
    o.schedulers = std::move(schedulers);
    o.waitForFinish = wait;
    o.setProperties = Json{{"who", "%(prop:buildername)s-child"}, {"n", 3}};
    o.copyProperties = {"owner", "missing"};
    return o;
  }

  StepConfig step(TriggerOptions o) {
    StepConfig s;
    s.type = "trigger";
    s.name = "trigger";
    s.options = std::make_shared<TriggerOptions>(std::move(o));
    return s;
  }
  StepConfig step(std::vector<std::string> schedulers, bool wait) {
    return step(options(std::move(schedulers), wait));
  }

  TriggerParent parentInfo() {
    return TriggerParent{parent.id, "parent", parent.number, {"repo.git", "main", "abc", "proj", {}}};
  }

  // Starts a trigger step of the parent build, as Build does; the step's
  // context lives as long as the fixture.
  std::shared_ptr<TriggerStep> startStep(SchedulerSet& set, const StepConfig& s) {
    contexts.push_back(std::make_unique<StepContext>(StepContext{
        parent.id, "parent", parent.number, parentBuildset, s, nullptr, props, *log, db, clock, &set,
        &buildsets, &events, nullptr, nullptr}));
    auto t = std::make_shared<TriggerStep>(s);
    t->start(*contexts.back(), [this](const StepOutcome& o) {
      ++doneCalls;
      result = o.result;
      resultText = o.text;
      interrupted = o.interrupted;
    });
    return t;
  }

  // Completes every request of the BuildSet with `r` and announces it, as
  // a finished build does.
  void finishChild(std::int64_t bsid, Result r) {
    std::optional<db::BuildsetCompletion> done;
    for (const auto& req : db.requestsForBuildset(bsid)) done = db.completeRequest(req.id, r, 2);
    ASSERT_TRUE(done);
    buildsets.completed(*done);
  }

  std::string logText() {
    log->finish();
    std::string out;
    db.readLog(log->logId(), [&](int, std::string_view d) {
      out.append(d);
      return true;
    });
    return out;
  }

  db::Database db;
  ManualClock clock;
  int wakes = 0;
  EventBus events{clock, [](std::function<void()> fn) { fn(); },
                 [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService buildsets;
  ChangeBus bus;
  std::int64_t parentBuildset = 0;
  std::int64_t parentRequest = 0;
  db::BuildRecord parent;
  std::int64_t stepId = 0;
  std::optional<LogWriter> log;
  Properties props;
  int doneCalls = 0;
  Result result = Result::Skipped;
  std::string resultText;
  bool interrupted = false;
  std::vector<std::unique_ptr<StepContext>> contexts;
};

TEST_F(TriggerableTest, TriggerMakesABuildsetNamingItsParent) {
  SchedulerSet set({db, clock, buildsets}, bus);
  EXPECT_TRUE(SchedulerSet::isImplemented("triggerable"));
  set.configure({triggerable("kids", {"c1", "c2"})});
  TriggerableScheduler* kids = set.findTriggerable("kids");
  ASSERT_NE(kids, nullptr);
  const auto made = kids->trigger({"r", "dev", "123", "p", {}}, Json{{"who", Json::array({"step", "Trigger"})}},
                                  parent.id, "parent #1");
  ASSERT_EQ(made.requests.size(), 2u);
  auto bs = db.getBuildset(made.id);
  ASSERT_TRUE(bs);
  EXPECT_EQ(bs->parentBuildId, parent.id);
  EXPECT_EQ(bs->scheduler, "kids");
  EXPECT_EQ(bs->reason, "triggered by parent #1");
  EXPECT_EQ(bs->sourcestamp.revision, "123");
  EXPECT_EQ(bs->properties["who"], Json::array({"step", "Trigger"})) << "the step's value wins";
  EXPECT_EQ(bs->properties["from_scheduler"], Json::array({"yes", "Scheduler"}));
  EXPECT_EQ(db.requestsForBuildset(made.id)[0].priority, 7);
  ASSERT_EQ(db.childBuildsets(parent.id).size(), 1u);
  EXPECT_GE(wakes, 1);
  // A reconfig that removes it leaves nothing to find; another type is not triggerable.
  SchedulerEntry force = triggerable("kids", {"c1"});
  force.type = "force";
  set.configure({force});
  EXPECT_EQ(set.findTriggerable("kids"), nullptr);
}

TEST_F(TriggerableTest, WithoutWaitingTheStepSucceedsOnceTheBuildsetIsCommitted) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({triggerable("kids", {"child"})});
  props.set("got_revision", "def", "Git");
  const StepConfig s = step({"kids"}, false);
  startStep(set, s);
  ASSERT_EQ(doneCalls, 1);
  EXPECT_EQ(result, Result::Success);
  EXPECT_EQ(resultText, "triggered kids (buildset 2)");
  auto bs = db.getBuildset(2);
  ASSERT_TRUE(bs);
  EXPECT_FALSE(bs->complete);
  EXPECT_EQ(bs->parentBuildId, parent.id);
  EXPECT_EQ(bs->sourcestamp.revision, "def") << "update_source_stamp: the parent's got_revision";
  EXPECT_EQ(bs->sourcestamp.branch, "main");
  EXPECT_EQ(bs->sourcestamp.repository, "repo.git");
  const Json& p = bs->properties;
  EXPECT_EQ(p["who"], Json::array({"parent-child", "Trigger"}));
  EXPECT_EQ(p["n"], Json::array({3, "Trigger"}));
  EXPECT_EQ(p["owner"], Json::array({"alice", "Trigger"}));
  EXPECT_FALSE(p.contains("missing"));
  EXPECT_EQ(p["parent_builder"], Json::array({"parent", "Trigger"}));
  EXPECT_EQ(p["parent_buildnumber"], Json::array({parent.number, "Trigger"}));
  EXPECT_EQ(p["parent_build_id"], Json::array({parent.id, "Trigger"}));
  EXPECT_EQ(p["from_scheduler"], Json::array({"yes", "Scheduler"}));
  const std::string text = logText();
  EXPECT_NE(text.find("triggered scheduler 'kids': buildset 2 on child"), std::string::npos) << text;
  EXPECT_NE(text.find("the parent has no property 'missing'"), std::string::npos) << text;
}

TEST_F(TriggerableTest, UpdateSourceStampOffKeepsTheParentsRevision) {
  props.set("got_revision", "def", "Git");
  TriggerOptions s = options({"kids"}, false);
  s.updateSourceStamp = false;
  EXPECT_EQ(TriggerStep::childSourceStamp(s, parentInfo(), props).revision, "abc");
  s.updateSourceStamp = true;
  EXPECT_EQ(TriggerStep::childSourceStamp(s, parentInfo(), props).revision, "def");
  props.erase("got_revision");
  EXPECT_EQ(TriggerStep::childSourceStamp(s, parentInfo(), props).revision, "abc");
}

TEST_F(TriggerableTest, WaitingTakesTheWorstResultOnceEveryBuildsetIsDone) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({triggerable("kids", {"child"}), triggerable("more", {"other"})});
  const StepConfig s = step({"kids", "more"}, true);
  auto t = startStep(set, s);
  EXPECT_EQ(doneCalls, 0) << "waits for the children";
  EXPECT_EQ(t->describe()["state"], "waiting");
  EXPECT_EQ(t->describe()["waiting_for"], Json::array({2, 3}));
  finishChild(2, Result::Failure);
  EXPECT_EQ(doneCalls, 0) << "buildset 3 is still running";
  finishChild(3, Result::Warnings);
  ASSERT_EQ(doneCalls, 1);
  EXPECT_EQ(result, Result::Failure);
  EXPECT_EQ(resultText, "triggered builds finished: worst buildset 2 failure");
  const std::string text = logText();
  EXPECT_NE(text.find("buildset 2 (scheduler 'kids') finished: failure: child (no build: failure)"),
            std::string::npos) << text;
  EXPECT_NE(text.find("buildset 3 (scheduler 'more') finished: warnings"), std::string::npos) << text;
}

TEST_F(TriggerableTest, AllChildrenSucceedingGivesSuccessAndAChildExceptionCountsAsFailure) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({triggerable("kids", {"child"})});
  const StepConfig s = step({"kids"}, true);
  startStep(set, s);
  finishChild(2, Result::Success);
  ASSERT_EQ(doneCalls, 1);
  EXPECT_EQ(result, Result::Success);
  startStep(set, s);
  finishChild(3, Result::Exception);
  ASSERT_EQ(doneCalls, 2);
  EXPECT_EQ(result, Result::Failure);
  EXPECT_EQ(resultText, "triggered builds finished: worst buildset 3 exception");
}

TEST_F(TriggerableTest, StopEndsTheWaitAndTheChildGoesOn) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({triggerable("kids", {"child"})});
  const StepConfig s = step({"kids"}, true);
  auto t = startStep(set, s);
  t->interrupt("stopped by alice");
  ASSERT_EQ(doneCalls, 1) << "an interrupted step ends at once";
  EXPECT_TRUE(interrupted);
  EXPECT_EQ(resultText, "interrupted while waiting: stopped by alice");
  EXPECT_EQ(t->describe()["state"], "done");
  t.reset();
  EXPECT_FALSE(db.getBuildset(2)->complete);
  finishChild(2, Result::Success);
  EXPECT_EQ(doneCalls, 1) << "it reports once, not again when the child ends";
  EXPECT_NE(logText().find("the triggered builds keep running"), std::string::npos);
}

TEST_F(TriggerableTest, ASchedulerGoneAtRunTimeIsAnExceptionAndTriggersNothing) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({triggerable("kids", {"child"})});
  const StepConfig s = step({"kids", "gone"}, true);
  startStep(set, s);
  ASSERT_EQ(doneCalls, 1);
  EXPECT_EQ(result, Result::Exception);
  EXPECT_NE(resultText.find("scheduler 'gone' is not a configured triggerable scheduler now"),
            std::string::npos) << resultText;
  EXPECT_FALSE(db.getBuildset(2)) << "the BuildSet of 'kids' was rolled back with the rest";
  EXPECT_TRUE(db.childBuildsets(parent.id).empty());
}

TEST_F(TriggerableTest, ASetPropertyThatDoesNotInterpolateIsAnException) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({triggerable("kids", {"child"})});
  TriggerOptions o = options({"kids"}, false);
  o.setProperties = Json{{"x", "%(prop:nosuch)s"}};
  const StepConfig s = step(o);
  startStep(set, s);
  ASSERT_EQ(doneCalls, 1);
  EXPECT_EQ(result, Result::Exception);
  EXPECT_NE(resultText.find("set_properties"), std::string::npos) << resultText;
  EXPECT_FALSE(db.getBuildset(2));
}

TEST_F(TriggerableTest, AWaitHearsEachCompletionOnceAndEndsItsSubscriptions) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({triggerable("kids", {"child"})});
  const std::size_t before = events.subscriberCount();
  const StepConfig s = step({"kids"}, true);  // the step keeps a reference to it
  startStep(set, s);
  EXPECT_EQ(events.subscriberCount(), before + 1) << "one subscription per awaited BuildSet";
  finishChild(2, Result::Success);
  buildsets.completed({2, Result::Failure});  // announced again: ignored
  ASSERT_EQ(doneCalls, 1);
  EXPECT_EQ(result, Result::Success);
  EXPECT_EQ(events.subscriberCount(), before) << "the step left its subscription behind";
}

}  // namespace
}  // namespace bb
