// Scheduler rules against an in-memory database and a clock the test
// advances: no test sleeps.
#include <gtest/gtest.h>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/events/event_bus.hpp"
#include "master/changes/change_bus.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/force.hpp"
#include "master/schedulers/scheduler_set.hpp"
#include "master/schedulers/single_branch.hpp"

namespace bb {
namespace {

using namespace std::chrono_literals;

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() : db(":memory:"), buildsets(db, events), bus(db, events) {
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
  }

  SchedulerEntry singleBranch(int timer) {
    SchedulerEntry e;
    e.name = "quick";
    e.type = "single_branch";
    e.branch = "main";
    e.treeStableTimer = timer;
    e.builders = {"b1", "b2"};
    return e;
  }

  std::int64_t change(const std::string& branch, std::vector<std::string> files = {"src/a.c"},
                      const std::string& rev = "r") {
    db::ChangeRecord c;
    c.author = "dev";
    c.branch = branch;
    c.revision = rev + std::to_string(++revs);
    c.files = std::move(files);
    c.source = "sendchange";
    return bus.addChange(c);
  }

  std::size_t buildsetCount() {
    std::size_t n = 0;
    for (std::int64_t id = 1; id < 100; ++id)
      if (db.getBuildset(id)) ++n;
    return n;
  }

  db::Database db;
  ManualClock clock;
  int wakes = 0;
  int revs = 0;
  EventBus events{clock, [](std::function<void()> fn) { fn(); },
                 [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService buildsets;
  ChangeBus bus;
};

TEST_F(SchedulerTest, WithoutTimerEachImportantChangeGetsItsOwnBuildset) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({singleBranch(0)});
  const auto c1 = change("main");
  change("main");
  change("release");  // other branch: ignored
  EXPECT_EQ(buildsetCount(), 2u);
  auto bs = db.getBuildset(1);
  ASSERT_TRUE(bs);
  EXPECT_EQ(bs->sourcestamp.changeIds, std::vector<std::int64_t>{c1});
  EXPECT_EQ(db.requestsForBuildset(1).size(), 2u);  // one request per builder
  EXPECT_GE(wakes, 2);
}

TEST_F(SchedulerTest, TreeStableTimerCollectsChangesUntilQuiet) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({singleBranch(30)});
  change("main");
  clock.advance(20s);
  change("main");  // restarts the timer
  clock.advance(20s);
  EXPECT_EQ(buildsetCount(), 0u);
  clock.advance(11s);
  ASSERT_EQ(buildsetCount(), 1u);
  EXPECT_EQ(db.getBuildset(1)->sourcestamp.changeIds.size(), 2u);
  clock.advance(100s);
  EXPECT_EQ(buildsetCount(), 1u);
}

TEST_F(SchedulerTest, UnimportantChangeRestartsOnlyARunningTimer) {
  auto e = singleBranch(30);
  e.files.include = {"src/**"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  change("main", {"docs/readme.md"});  // unimportant, no timer running
  clock.advance(60s);
  EXPECT_EQ(buildsetCount(), 0u);
  change("main", {"src/x.c"});  // important: starts the timer
  clock.advance(25s);
  change("main", {"docs/y.md"});  // unimportant: restarts the running timer
  clock.advance(25s);
  EXPECT_EQ(buildsetCount(), 0u);
  clock.advance(6s);
  ASSERT_EQ(buildsetCount(), 1u);
  // Every change classified since the last buildset goes in.
  EXPECT_EQ(db.getBuildset(1)->sourcestamp.changeIds.size(), 3u);
}

TEST_F(SchedulerTest, OnlyImportantDropsUnimportantChanges) {
  auto e = singleBranch(10);
  e.files.include = {"src/**"};
  e.onlyImportant = true;
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  change("main", {"src/x.c"});
  change("main", {"docs/y.md"});
  clock.advance(11s);
  ASSERT_EQ(buildsetCount(), 1u);
  EXPECT_EQ(db.getBuildset(1)->sourcestamp.changeIds.size(), 1u);
}

TEST_F(SchedulerTest, PendingTimerSurvivesARestart) {
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({singleBranch(30)});
    change("main");
    clock.advance(10s);
  }  // the master stops with the timer pending
  EXPECT_EQ(buildsetCount(), 0u);
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({singleBranch(30)});
  clock.advance(19s);
  EXPECT_EQ(buildsetCount(), 0u);
  clock.advance(2s);
  EXPECT_EQ(buildsetCount(), 1u);
}

TEST_F(SchedulerTest, EachHeldChangeIsOneRowNotARewrittenList) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({singleBranch(30)});
  const auto a = change("main");
  const auto b = change("main");
  const auto c = change("main");
  const auto rows = db.statesWithPrefix("scheduler:quick", "pending-change:");
  ASSERT_EQ(rows.size(), 3u);
  const Json meta = *db.getState("scheduler:quick", "pending");
  EXPECT_FALSE(meta.contains("changes")) << meta.dump();
  EXPECT_TRUE(meta.value("important", false));
  clock.advance(31s);
  ASSERT_EQ(buildsetCount(), 1u);
  EXPECT_EQ(db.getBuildset(1)->sourcestamp.changeIds, (std::vector<std::int64_t>{a, b, c}));
  EXPECT_TRUE(db.statesWithPrefix("scheduler:quick", "pending-change:").empty())
      << "the built changes are no longer held";
}

TEST_F(SchedulerTest, ReconfigKeepsUnchangedSchedulersState) {
  SchedulerSet set({db, clock, buildsets}, bus);
  auto quick = singleBranch(30);
  SchedulerEntry force;
  force.name = "force";
  force.type = "force";
  force.builders = {"b1"};
  set.configure({quick, force});
  Scheduler* before = set.find("quick");
  change("main");
  force.builders = {"b1", "b2"};
  set.configure({quick, force});
  EXPECT_EQ(set.find("quick"), before);  // same object: timer still armed
  clock.advance(31s);
  EXPECT_EQ(buildsetCount(), 1u);
}

// Several masters on one database: a change accepted elsewhere while no
// master ran the scheduler is stored without its decision; the scheduler
// catches up on it, once, and a late notification does not give it twice.
// (With a tree-stable timer: one without runs on every master and sees its
// own master's changes only, so it has nothing to catch up on.)
TEST_F(SchedulerTest, CatchUpGivesAChangeThatReachedNoRunningCopyItsBuildsetOnce) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.shareWithOtherMasters(db.registerMaster("m", 1));
  set.configure({singleBranch(30)});  // its first start stores its floor
  change("main");
  clock.advance(31s);
  EXPECT_EQ(buildsetCount(), 1u);
  auto acceptedElsewhere = [&](const std::string& branch) {
    db::ChangeRecord c;
    c.author = "dev";
    c.branch = branch;
    c.revision = "elsewhere" + std::to_string(++revs);
    c.files = {"src/b.c"};
    c.source = "sendchange";
    return db.addChange(c);
  };
  const auto missed = acceptedElsewhere("main");
  acceptedElsewhere("main");
  acceptedElsewhere("release");  // its decision: ignored
  EXPECT_EQ(set.catchUpChanges(), 3);
  EXPECT_TRUE(db.hasDecision(missed, "quick"));
  EXPECT_EQ(set.catchUpChanges(), 0);
  bus.deliverFromOtherMaster(*db.getChange(missed));  // its notification, late
  clock.advance(31s);
  ASSERT_EQ(buildsetCount(), 2u);  // the two on main, together, once
  EXPECT_EQ(db.getBuildset(2)->sourcestamp.changeIds, (std::vector<std::int64_t>{missed, missed + 1}));
  // After two more scans the floor is past them: a scan reads only new ones.
  EXPECT_EQ(set.catchUpChanges(), 0);
  EXPECT_EQ(db.getState("scheduler:quick", "changes_after"), Json(missed + 2));
}

TEST_F(SchedulerTest, ANewOrReaddedSchedulerDoesNotBuildTheChangesBeforeIt) {
  change("main");  // before the scheduler existed
  SchedulerSet set({db, clock, buildsets}, bus);
  set.shareWithOtherMasters(db.registerMaster("m", 1));
  set.configure({singleBranch(30)});
  EXPECT_EQ(set.catchUpChanges(), 0);
  set.configure({});  // removed: its floor goes
  EXPECT_FALSE(db.getState("scheduler:quick", "changes_after"));
  change("main");  // while it is not configured
  set.configure({singleBranch(30)});
  EXPECT_EQ(set.catchUpChanges(), 0);
  clock.advance(31s);
  EXPECT_EQ(buildsetCount(), 0u);
}

TEST_F(SchedulerTest, ForceValidatesEveryFieldAtOnce) {
  SchedulerEntry e;
  e.name = "force";
  e.type = "force";
  e.builders = {"b1", "b2"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  ForceScheduler* f = set.findForce("force");
  ASSERT_NE(f, nullptr);
  try {
    f->force(Json{{"builders", {"nope"}}, {"branch", 5}, {"properties", {{"bad name", "x"}}}}, "alice");
    FAIL() << "expected ForceError";
  } catch (const ForceError& err) {
    EXPECT_EQ(err.details.size(), 3u);
  }
  EXPECT_EQ(buildsetCount(), 0u);
  auto ok = f->force(Json{{"builders", {"b2"}}, {"branch", "main"}, {"reason", "test"}}, "alice");
  EXPECT_EQ(ok.requests.size(), 1u);
  EXPECT_EQ(ok.requests.count("b2"), 1u);
  auto bs = db.getBuildset(ok.id);
  ASSERT_TRUE(bs);
  EXPECT_EQ(bs->reason, "test");
  EXPECT_EQ(bs->sourcestamp.branch, "main");
}

TEST_F(SchedulerTest, ForceTellsAnUnknownBuilderFromOneNotOnTheScheduler) {
  SchedulerEntry e;
  e.name = "force";
  e.type = "force";
  e.builders = {"b1", "b2"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  ForceScheduler* f = set.findForce("force");
  ASSERT_NE(f, nullptr);
  try {
    f->force(Json{{"builders", {"nope", "docs"}}}, "alice", {"b1", "b2", "docs"});
    FAIL() << "expected ForceError";
  } catch (const ForceError& err) {
    EXPECT_EQ(std::string(err.what()), "force scheduler 'force' rejected the request");
    EXPECT_EQ(err.details,
              (std::vector<std::string>{
                  "there is no builder 'nope'; force scheduler 'force' can build: b1, b2",
                  "builder 'docs' is not on force scheduler 'force'; it can build: b1, b2"}));
  }
  EXPECT_EQ(buildsetCount(), 0u);
}

TEST_F(SchedulerTest, ForceRefusesPropertyNamesThatInterpolationCannotReach) {
  SchedulerEntry e;
  e.name = "force";
  e.type = "force";
  e.builders = {"b1"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  ForceScheduler* f = set.findForce("force");
  ASSERT_NE(f, nullptr);
  try {
    f->force(Json{{"properties", {{"a/b", "1"}, {"x$y", "2"}, {"ok.name-1_", "3"}}}}, "alice");
    FAIL() << "expected ForceError";
  } catch (const ForceError& err) {
    ASSERT_EQ(err.details.size(), 2u);
    EXPECT_EQ(err.details[0],
              "property name 'a/b' is not allowed: use one or more letters, digits, '_', '.' or "
              "'-' (a name that %(prop:NAME)s can refer to)");
    EXPECT_NE(err.details[1].find("property name 'x$y' is not allowed"), std::string::npos);
  }
  EXPECT_EQ(buildsetCount(), 0u);
}

TEST_F(SchedulerTest, ForceDropsSourceStampPropertiesAndSaysSo) {
  SchedulerEntry e;
  e.name = "force";
  e.type = "force";
  e.builders = {"b1"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  ForceScheduler* f = set.findForce("force");
  ASSERT_NE(f, nullptr);
  std::vector<std::string> notes;
  auto bs = f->force(Json{{"revision", "abc"},
                          {"properties", {{"revision", "X"}, {"codebase", "c"}, {"flavor", "f"}}}},
                     "alice", {}, &notes);
  EXPECT_EQ(notes, (std::vector<std::string>{
                       "property 'codebase' is ignored: a build's codebase comes from its source "
                       "stamp (set it with --codebase)",
                       "property 'revision' is ignored: a build's revision comes from its source "
                       "stamp (set it with --revision)"}));
  const auto rec = db.getBuildset(bs.id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->sourcestamp.revision, "abc");
  EXPECT_FALSE(rec->properties.contains("revision")) << rec->properties.dump();
  EXPECT_EQ(rec->properties["flavor"], Json::array({"f", "Force"}));
}

TEST_F(SchedulerTest, ChangePropertiesReachTheBuildsetOverTheSchedulers) {
  auto e = singleBranch(30);
  e.properties = Json{{"flavor", "scheduler"}, {"kept", 1}};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  auto withProps = [&](Json props) {
    db::ChangeRecord c;
    c.author = "dev";
    c.branch = "main";
    c.revision = "r" + std::to_string(++revs);
    c.files = {"src/a.c"};
    c.source = "sendchange";
    c.properties = std::move(props);
    return bus.addChange(c);
  };
  withProps(Json{{"flavor", "old"}, {"only_old", true}});
  withProps(Json{{"flavor", "new"}});
  clock.advance(31s);
  ASSERT_EQ(buildsetCount(), 1u);
  const Json props = db.getBuildset(1)->properties;
  EXPECT_EQ(props["flavor"], Json::array({"new", "Change"})) << props.dump();  // newest wins
  EXPECT_EQ(props["only_old"], Json::array({true, "Change"})) << props.dump();
  EXPECT_EQ(props["kept"], Json::array({1, "Scheduler"})) << props.dump();
}

TEST_F(SchedulerTest, ForcedRequestsTakeTheGivenPriorityOrTheSchedulers) {
  SchedulerEntry e;
  e.name = "force";
  e.type = "force";
  e.builders = {"b1"};
  e.priority = 3;
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  ForceScheduler* f = set.findForce("force");
  ASSERT_NE(f, nullptr);
  auto plain = f->force(Json::object(), "alice");
  auto urgent = f->force(Json{{"priority", 50}}, "alice");
  EXPECT_EQ(db.getRequest(plain.requests.at("b1"))->priority, 3);
  EXPECT_EQ(db.getRequest(urgent.requests.at("b1"))->priority, 50);
  EXPECT_EQ(db.pendingRequests().front().id, urgent.requests.at("b1"));
  for (const Json& bad : {Json("high"), Json(2000000), Json(1.5)}) {
    try {
      f->force(Json{{"priority", bad}}, "alice");
      FAIL() << "expected ForceError for " << bad.dump();
    } catch (const ForceError& err) {
      ASSERT_EQ(err.details.size(), 1u);
      EXPECT_NE(err.details[0].find("priority must be a whole number"), std::string::npos);
    }
  }
}

TEST_F(SchedulerTest, ChangeSourcesSubscription) {
  auto e = singleBranch(0);
  e.changeSources = {"app"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  change("main");  // from sendchange: not subscribed
  EXPECT_EQ(buildsetCount(), 0u);
  db::ChangeRecord c;
  c.branch = "main";
  c.revision = "x";
  c.source = "git_poller:app";
  bus.addChange(c);
  EXPECT_EQ(buildsetCount(), 1u);
}

}  // namespace
}  // namespace bb

namespace bb {
namespace {

class DependentTest : public SchedulerTest {
 protected:
  SchedulerEntry dependent() {
    SchedulerEntry e;
    e.name = "full";
    e.type = "dependent";
    e.builders = {"full-builder"};
    e.extra = Json{{"upstream", "quick"}};
    return e;
  }
  // Completes every request of buildset `id` with `r`, as builds would.
  db::BuildsetRecord complete(std::int64_t id, Result r) {
    std::optional<db::BuildsetCompletion> done;
    for (const auto& req : db.requestsForBuildset(id)) done = db.completeRequest(req.id, r, 1);
    EXPECT_TRUE(done.has_value());
    return *db.getBuildset(id);
  }
  // Announces the completion on the event bus, as a finished build does.
  void announce(const db::BuildsetRecord& bs) { buildsets.completed({bs.id, bs.result}); }
  std::vector<db::BuildsetRecord> downstream() {
    std::vector<db::BuildsetRecord> out;
    for (std::int64_t id = 1; id < 100; ++id)
      if (auto bs = db.getBuildset(id); bs && bs->scheduler == "full") out.push_back(*bs);
    return out;
  }
};

TEST_F(DependentTest, FiresOnSuccessWithTheSameSourceStampAndNotOnFailure) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({singleBranch(0), dependent()});
  change("main");
  announce(complete(1, Result::Success));
  auto d = downstream();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].sourcestamp.revision, db.getBuildset(1)->sourcestamp.revision);
  EXPECT_EQ(d[0].sourcestamp.changeIds, db.getBuildset(1)->sourcestamp.changeIds);
  EXPECT_EQ(db.requestsForBuildset(d[0].id)[0].builder, "full-builder");
  // It names its upstream BuildSet (a download step's `builder:` uses it).
  EXPECT_EQ(d[0].properties.value("upstream_buildset_id", Json()), Json::array({1, "Dependent"}));
  change("main");
  const auto failed = db.getBuildset(3);
  ASSERT_TRUE(failed && failed->scheduler == "quick");
  announce(complete(3, Result::Failure));
  EXPECT_EQ(downstream().size(), 1u);
  announce(*db.getBuildset(1));  // announced twice: handled once
  EXPECT_EQ(downstream().size(), 1u);
}

TEST_F(DependentTest, UpstreamCompletedWhileDownIsHandledOnStart) {
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({singleBranch(0), dependent()});
    change("main");
    change("main");
  }  // master stops; both upstream buildsets complete meanwhile
  complete(1, Result::Warnings);
  complete(2, Result::Exception);
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({singleBranch(0), dependent()});
  ASSERT_EQ(downstream().size(), 1u);
  SchedulerSet third({db, clock, buildsets}, bus);
  third.configure({singleBranch(0), dependent()});
  EXPECT_EQ(downstream().size(), 1u) << "a restart does not handle it again";
}

}  // namespace
}  // namespace bb
