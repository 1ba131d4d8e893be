// periodic, nightly and any_branch schedulers against an in-memory
// database and a ManualClock the test advances: no test sleeps. A master
// restart is a SchedulerSet destroyed and a new one configured on the same
// database.
#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/events/event_bus.hpp"
#include "master/changes/change_bus.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/any_branch.hpp"
#include "common/cron.hpp"
#include "master/schedulers/nightly.hpp"
#include "master/schedulers/periodic.hpp"
#include "master/schedulers/scheduler_set.hpp"

namespace bb {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

WallTime timedSchedulersUtc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s);
}

class TimedSchedulersTest : public ::testing::Test {
 protected:
  TimedSchedulersTest() : db(":memory:"), buildsets(db, events), bus(db, events) {
    db.upgrade();
    clock.setWall(timedSchedulersUtc(2024, 1, 10, 12, 0));  // a Wednesday, noon UTC
  }

  SchedulerEntry periodic(int interval) {
    SchedulerEntry e;
    e.name = "hourly";
    e.type = "periodic";
    e.branch = "main";
    e.builders = {"b1", "b2"};
    e.extra = Json{{"interval", interval}};
    return e;
  }

  SchedulerEntry nightly(Json extra) {
    SchedulerEntry e;
    e.name = "nightly";
    e.type = "nightly";
    e.branch = "main";
    e.builders = {"b1"};
    e.extra = std::move(extra);
    return e;
  }

  SchedulerEntry anyBranch(int timer, Json branches = nullptr) {
    SchedulerEntry e;
    e.name = "any";
    e.type = "any_branch";
    e.treeStableTimer = timer;
    e.builders = {"b1"};
    if (!branches.is_null()) e.extra["branches"] = std::move(branches);
    return e;
  }

  std::int64_t change(const std::string& branch, std::vector<std::string> files = {"src/a.c"},
                      const std::string& repository = "app") {
    return changeOn(bus, branch, std::move(files), repository);
  }
  // The same, accepted through `on` (another master's bus).
  std::int64_t changeOn(ChangeBus& on, const std::string& branch, std::vector<std::string> files = {"src/a.c"},
                        const std::string& repository = "app") {
    db::ChangeRecord c;
    c.author = "dev";
    c.branch = branch;
    c.repository = repository;
    c.revision = "r" + std::to_string(++revs);
    c.files = std::move(files);
    c.source = "sendchange";
    return on.addChange(c);
  }

  std::vector<db::BuildsetRecord> buildsets_() {
    std::vector<db::BuildsetRecord> out;
    for (std::int64_t id = 1; id < 200; ++id)
      if (auto bs = db.getBuildset(id)) out.push_back(*bs);
    return out;
  }
  std::size_t count() { return buildsets_().size(); }

  db::Database db;
  ManualClock clock;
  int revs = 0;
  EventBus events{clock, [](std::function<void()> fn) { fn(); },
                 [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService buildsets;
  ChangeBus bus;
};

// --- periodic ---------------------------------------------------------------

// Two masters on one database (two SchedulerSets sharing it): the periodic
// scheduler runs on the first to claim it; the other stands by, takes it
// over when it is released, and goes on from the stored last run, so no
// slot is built twice. Force schedulers run on both.
TEST_F(TimedSchedulersTest, ATimedSchedulerRunsOnOneMasterAndMovesWhenReleased) {
  const db::MasterId ma = db.registerMaster("ma", 0), mb = db.registerMaster("mb", 0);
  SchedulerEntry force;
  force.name = "force";
  force.type = "force";
  force.builders = {"b1"};
  SchedulerSet a({db, clock, buildsets}, bus), b({db, clock, buildsets}, bus);
  a.shareWithOtherMasters(ma);
  b.shareWithOtherMasters(mb);
  a.configure({periodic(3600), force});
  b.configure({periodic(3600), force});
  EXPECT_TRUE(a.runsHere("hourly"));
  EXPECT_FALSE(b.runsHere("hourly"));
  EXPECT_TRUE(b.runsHere("force"));
  EXPECT_EQ(db.schedulerOwner("hourly"), ma);
  EXPECT_EQ(count(), 1u);  // built at start, once
  EXPECT_EQ(b.claimUnowned(), 0);
  clock.advance(3600s);
  EXPECT_EQ(count(), 2u);
  clock.advance(1000s);
  EXPECT_EQ(a.stopAll(), 1);  // released
  EXPECT_FALSE(db.schedulerOwner("hourly"));
  EXPECT_EQ(b.claimUnowned(), 1);
  EXPECT_TRUE(b.runsHere("hourly"));
  EXPECT_EQ(count(), 2u);  // the stored last run: not due yet
  clock.advance(2599s);
  EXPECT_EQ(count(), 2u);
  clock.advance(1s);
  EXPECT_EQ(count(), 3u);
}

// single_branch and any_branch without a tree-stable timer keep no state
// between changes: they run on every master, each copy building the
// changes its own master accepted (one master's bus each here), and a
// change announced by another master is not classified again. With a
// timer, or with changes still held from a config that had one, the
// scheduler runs on one master.
TEST_F(TimedSchedulersTest, ASchedulerWithoutATimerRunsOnEveryMasterAndBuildsEachChangeOnce) {
  const db::MasterId ma = db.registerMaster("ma", 0), mb = db.registerMaster("mb", 0);
  ChangeBus busB(db, events);
  // Masters A (this fixture's bus) and B (busB), configured with `entries`.
  auto twoMasters = [&](const std::vector<SchedulerEntry>& entries) {
    auto a = std::make_unique<SchedulerSet>(SchedulerContext{db, clock, buildsets}, bus);
    auto b = std::make_unique<SchedulerSet>(SchedulerContext{db, clock, buildsets}, busB);
    a->shareWithOtherMasters(ma);
    b->shareWithOtherMasters(mb);
    a->configure(entries);
    b->configure(entries);
    return std::make_pair(std::move(a), std::move(b));
  };
  SchedulerEntry single;
  single.name = "all";
  single.type = "single_branch";
  single.branch = "main";
  single.builders = {"b1"};
  {
    auto [a, b] = twoMasters({single, anyBranch(0)});
    for (const char* name : {"all", "any"}) {
      EXPECT_TRUE(a->runsHere(name)) << name;
      EXPECT_TRUE(b->runsHere(name)) << name;
      EXPECT_FALSE(db.schedulerOwner(name)) << name;  // nothing claimed
    }
    EXPECT_FALSE(bus.takesOtherMastersChanges());
    EXPECT_FALSE(busB.takesOtherMastersChanges());
    const auto c1 = change("main");          // on A: "all" and "any" build it
    const auto c2 = changeOn(busB, "main");  // on B: the same
    changeOn(busB, "feature");               // on B: "any" only
    EXPECT_EQ(count(), 5u);
    // The notification of c1 reaching B changes nothing.
    busB.deliverFromOtherMaster(*db.getChange(c1));
    bus.deliverFromOtherMaster(*db.getChange(c2));
    EXPECT_EQ(count(), 5u);
    EXPECT_EQ(a->stopAll() + b->stopAll(), 0);  // nothing to release
  }
  // With a timer: one master; the other stands by and takes no changes.
  single.treeStableTimer = 60;
  {
    auto [a, b] = twoMasters({single});
    EXPECT_TRUE(a->runsHere("all"));
    EXPECT_FALSE(b->runsHere("all"));
    EXPECT_EQ(db.schedulerOwner("all"), ma);
    EXPECT_TRUE(bus.takesOtherMastersChanges());
    EXPECT_FALSE(busB.takesOtherMastersChanges());
    change("main");  // held for the timer
    EXPECT_EQ(count(), 5u);
    EXPECT_EQ(a->stopAll(), 1);
  }
  // The timer is configured away while a change is held: the first master
  // to configure it runs it alone until the held change is built, once.
  single.treeStableTimer = 0;
  auto [a, b] = twoMasters({single});
  EXPECT_TRUE(a->runsHere("all"));
  EXPECT_FALSE(b->runsHere("all"));
  EXPECT_EQ(db.schedulerOwner("all"), ma);
  clock.advance(60s);
  EXPECT_EQ(count(), 6u);
  EXPECT_EQ(b->claimUnowned(), 0);
  EXPECT_EQ(count(), 6u);
}

TEST_F(TimedSchedulersTest, PeriodicBuildsAtStartThenEveryInterval) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({periodic(3600)});
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].reason, "periodic scheduler hourly");
  EXPECT_EQ(all[0].scheduler, "hourly");
  EXPECT_EQ(all[0].sourcestamp.branch, "main");
  EXPECT_TRUE(all[0].sourcestamp.changeIds.empty());
  EXPECT_EQ(db.requestsForBuildset(all[0].id).size(), 2u);
  EXPECT_FALSE(set.find("hourly")->subscribesToChanges());
  change("main");  // changes mean nothing to it
  clock.advance(3599s);
  EXPECT_EQ(count(), 1u);
  clock.advance(1s);
  EXPECT_EQ(count(), 2u);
  clock.advance(3600s * 3);
  EXPECT_EQ(count(), 5u);
}

TEST_F(TimedSchedulersTest, PeriodicRestartWaitsOnlyTheRemainder) {
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({periodic(3600)});
    clock.advance(1000s);
  }
  clock.advance(500s);  // the master is down
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({periodic(3600)});
  EXPECT_EQ(count(), 1u);  // not due yet: no build at start
  auto* p = dynamic_cast<PeriodicScheduler*>(again.find("hourly"));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->nextRun());
  EXPECT_EQ(*p->nextRun(), timedSchedulersUtc(2024, 1, 10, 13, 0));
  clock.advance(2099s);
  EXPECT_EQ(count(), 1u);
  clock.advance(1s);
  EXPECT_EQ(count(), 2u);
}

TEST_F(TimedSchedulersTest, PeriodicDownForManyIntervalsBuildsOnceAtStart) {
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({periodic(3600)});
  }
  clock.advance(10h);  // ten intervals missed
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({periodic(3600)});
  EXPECT_EQ(count(), 2u);
  clock.advance(3599s);
  EXPECT_EQ(count(), 2u);
  clock.advance(1s);
  EXPECT_EQ(count(), 3u);
}

TEST_F(TimedSchedulersTest, PeriodicRunsArePlannedFromThePlannedTimeAndDoNotDrift) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({periodic(3600)});  // built at 12:00
  auto* p = dynamic_cast<PeriodicScheduler*>(set.find("hourly"));
  ASSERT_NE(p, nullptr);
  // Each run wakes 700 ms late (a busy loop, a slow timer): the wall clock
  // is ahead of the timer when it fires.
  for (int run = 1; run <= 3; ++run) {
    clock.setWall(clock.wallNow() + 700ms);
    clock.advance(3600s);
    ASSERT_EQ(count(), static_cast<std::size_t>(run + 1));
    ASSERT_TRUE(p->nextRun());
    EXPECT_EQ(*p->nextRun(), timedSchedulersUtc(2024, 1, 10, 13 + run, 0)) << "after run " << run;
  }
  // The stored last run is the planned time, so a restart keeps the phase.
  SchedulerSet again({db, clock, buildsets}, bus);
  set.stopAll();
  again.configure({periodic(3600)});
  auto* q = dynamic_cast<PeriodicScheduler*>(again.find("hourly"));
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->nextRun());
  EXPECT_EQ(*q->nextRun(), timedSchedulersUtc(2024, 1, 10, 16, 0));
}

TEST_F(TimedSchedulersTest, PeriodicDownForManyIntervalsKeepsItsPhaseOverRestarts) {
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({periodic(3600)});  // 12:00
  }
  clock.advance(10h + 30min);  // 22:30: the 22:00 slot is the latest missed
  {
    SchedulerSet again({db, clock, buildsets}, bus);
    again.configure({periodic(3600)});
    EXPECT_EQ(count(), 2u);
    auto* p = dynamic_cast<PeriodicScheduler*>(again.find("hourly"));
    ASSERT_TRUE(p && p->nextRun());
    EXPECT_EQ(*p->nextRun(), timedSchedulersUtc(2024, 1, 10, 23, 0));
  }
  clock.advance(10min);  // restarted again before 23:00: nothing is due
  SchedulerSet third({db, clock, buildsets}, bus);
  third.configure({periodic(3600)});
  EXPECT_EQ(count(), 2u);
}

TEST_F(TimedSchedulersTest, PeriodicWithoutAValidIntervalNeverBuilds) {
  auto e = periodic(0);
  e.extra = Json{{"interval", "often"}};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  clock.advance(24h);
  EXPECT_EQ(count(), 0u);
}

// --- nightly ----------------------------------------------------------------

TEST_F(TimedSchedulersTest, NightlyFiresAtItsTimeEveryDay) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({nightly(Json{{"cron", "0 3 * * *"}})});
  auto* n = dynamic_cast<NightlyScheduler*>(set.find("nightly"));
  ASSERT_NE(n, nullptr);
  EXPECT_FALSE(n->subscribesToChanges());
  ASSERT_TRUE(n->nextFire());
  EXPECT_EQ(*n->nextFire(), timedSchedulersUtc(2024, 1, 11, 3, 0));
  EXPECT_EQ(count(), 0u);  // first start: nothing missed
  clock.advance(15h - 1s);
  EXPECT_EQ(count(), 0u);
  clock.advance(1s);
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].reason, "nightly scheduler nightly");
  EXPECT_EQ(all[0].sourcestamp.branch, "main");
  EXPECT_TRUE(all[0].sourcestamp.changeIds.empty());
  EXPECT_EQ(*n->nextFire(), timedSchedulersUtc(2024, 1, 12, 3, 0));
  clock.advance(24h);
  EXPECT_EQ(count(), 2u);
}

TEST_F(TimedSchedulersTest, NightlyUsesItsTimeZone) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({nightly(Json{{"cron", "0 3 * * *"}, {"timezone", "Europe/Paris"}})});
  auto* n = dynamic_cast<NightlyScheduler*>(set.find("nightly"));
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(n->nextFire());
  EXPECT_EQ(*n->nextFire(), timedSchedulersUtc(2024, 1, 11, 2, 0));  // 03:00 CET
  clock.advance(14h);
  EXPECT_EQ(count(), 1u);
}

TEST_F(TimedSchedulersTest, NightlyOnlyIfChangedBuildsOnlyAfterImportantChanges) {
  auto e = nightly(Json{{"cron", "0 3 * * *"}, {"only_if_changed", true}});
  e.files.include = {"src/**"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  EXPECT_TRUE(set.find("nightly")->subscribesToChanges());
  clock.advance(15h);  // 03:00: no change yet
  EXPECT_EQ(count(), 0u);
  const auto c0 = change("main", {"docs/a.md"});  // unimportant
  change("release");                              // another branch
  clock.advance(24h);
  EXPECT_EQ(count(), 0u);
  const auto c1 = change("main", {"docs/b.md"});
  const auto c2 = change("main", {"src/x.c"});
  clock.advance(24h);
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 1u);
  // The unimportant change held since the first night rides along.
  EXPECT_EQ(all[0].sourcestamp.changeIds, (std::vector<std::int64_t>{c0, c1, c2}));
  EXPECT_EQ(all[0].sourcestamp.revision, db.getChange(c2)->revision);
  EXPECT_EQ(all[0].sourcestamp.branch, "main");
  clock.advance(24h);  // the changes were consumed
  EXPECT_EQ(count(), 1u);
}

TEST_F(TimedSchedulersTest, NightlyKeepsUnimportantChangesHeldUntilABuildTakesThem) {
  auto e = nightly(Json{{"cron", "0 3 * * *"}, {"only_if_changed", true}});
  e.files.include = {"src/**"};
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({e});
    const auto docs = change("main", {"docs/a.md"});
    clock.advance(15h);  // 03:00 with only an unimportant change: no build
    EXPECT_EQ(count(), 0u);
    // It is still held, and what change-status reads about it is still true.
    EXPECT_EQ(db.statesWithPrefix("scheduler:nightly", "pending-change:").size(), 1u);
    const auto decisions = db.decisionsForChange(docs);
    ASSERT_EQ(decisions.size(), 1u);
    EXPECT_EQ(decisions[0].decision, "unimportant");
    EXPECT_EQ(decisions[0].reason,
              "not important: built with the next scheduled build, which needs an important "
              "change");
    clock.advance(24h);  // another quiet night
    EXPECT_EQ(count(), 0u);
  }
  // Held over a restart too; the next important change builds them both.
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({e});
  const auto src = change("main", {"src/x.c"});
  clock.advance(24h);
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].sourcestamp.changeIds, (std::vector<std::int64_t>{1, src}));
  EXPECT_TRUE(db.statesWithPrefix("scheduler:nightly", "pending-change:").empty());
}

// Europe/Berlin 2024: back on 27 October 03:00 CEST -> 02:00 CET (01:00
// UTC), forward on 31 March 02:00 CET -> 03:00 CEST (01:00 UTC).
TEST_F(TimedSchedulersTest, NightlyHourlyKeepsBuildingThroughBerlinsRepeatedHour) {
  clock.setWall(timedSchedulersUtc(2024, 10, 26, 22, 30));  // 00:30 CEST
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({nightly(Json{{"cron", "0 * * * *"}, {"timezone", "Europe/Berlin"}})});
  auto* n = dynamic_cast<NightlyScheduler*>(set.find("nightly"));
  ASSERT_NE(n, nullptr);
  // 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET, 04:00 CET.
  const std::vector<WallTime> expected{timedSchedulersUtc(2024, 10, 26, 23, 0), timedSchedulersUtc(2024, 10, 27, 0, 0),
                                       timedSchedulersUtc(2024, 10, 27, 1, 0), timedSchedulersUtc(2024, 10, 27, 2, 0),
                                       timedSchedulersUtc(2024, 10, 27, 3, 0)};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_TRUE(n->nextFire());
    ASSERT_EQ(*n->nextFire(), expected[i]) << "fire " << i;
    clock.advance(duration_cast<milliseconds>(expected[i] - clock.wallNow()));
    EXPECT_EQ(count(), i + 1) << "fire " << i;
  }
}

TEST_F(TimedSchedulersTest, NightlyFixedTimeBuildsOnceOnBothBerlinChanges) {
  clock.setWall(timedSchedulersUtc(2024, 3, 30, 12, 0));
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({nightly(Json{{"cron", "30 2 * * *"}, {"timezone", "Europe/Berlin"}})});
  auto* n = dynamic_cast<NightlyScheduler*>(set.find("nightly"));
  ASSERT_NE(n, nullptr);
  // Spring: 02:30 does not exist; it builds once at 03:00 CEST.
  ASSERT_TRUE(n->nextFire());
  EXPECT_EQ(*n->nextFire(), timedSchedulersUtc(2024, 3, 31, 1, 0));
  clock.advance(24h);
  EXPECT_EQ(count(), 1u);
  // Autumn: 02:30 happens twice; it builds at the first only.
  clock.setWall(timedSchedulersUtc(2024, 10, 26, 12, 0));
  auto autumn = nightly(Json{{"cron", "30 2 * * *"}, {"timezone", "Europe/Berlin"}});
  autumn.name = "autumn";
  set.configure({autumn});
  n = dynamic_cast<NightlyScheduler*>(set.find("autumn"));
  ASSERT_TRUE(n && n->nextFire());
  EXPECT_EQ(*n->nextFire(), timedSchedulersUtc(2024, 10, 27, 0, 30));
  clock.advance(24h);
  EXPECT_EQ(count(), 2u);
  ASSERT_TRUE(n->nextFire());
  EXPECT_EQ(*n->nextFire(), timedSchedulersUtc(2024, 10, 28, 1, 30));
}

TEST_F(TimedSchedulersTest, NightlyTurnedToAlwaysBuildTakesTheChangesItHeld) {
  auto held = nightly(Json{{"cron", "0 3 * * *"}, {"only_if_changed", true}});
  held.files.include = {"src/**"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({held});
  const auto docs = change("main", {"docs/a.md"});
  clock.advance(15h);  // 03:00: only an unimportant change, nothing built
  EXPECT_EQ(count(), 0u);
  // A reconfig drops only_if_changed: the next nightly build takes the
  // held change, so change-status does not say it waits forever.
  set.configure({nightly(Json{{"cron", "0 3 * * *"}})});
  clock.advance(24h);
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].sourcestamp.changeIds, (std::vector<std::int64_t>{docs}));
  EXPECT_EQ(all[0].sourcestamp.revision, "");  // the branch as it is then
  EXPECT_TRUE(db.statesWithPrefix("scheduler:nightly", "pending-change:").empty());
}

TEST_F(TimedSchedulersTest, NightlyBuildCarriesItsChangesProperties) {
  auto e = nightly(Json{{"cron", "0 3 * * *"}, {"only_if_changed", true}});
  e.properties = Json{{"suite", "full"}};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  db::ChangeRecord c;
  c.author = "dev";
  c.branch = "main";
  c.revision = "abc";
  c.files = {"src/a.c"};
  c.source = "sendchange";
  c.properties = Json{{"suite", "quick"}, {"ticket", 42}};
  bus.addChange(c);
  clock.advance(15h);
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].properties["suite"], Json::array({"quick", "Change"}));
  EXPECT_EQ(all[0].properties["ticket"], Json::array({42, "Change"}));
}

TEST_F(TimedSchedulersTest, NightlyOnlyIfChangedKeepsChangesOverARestart) {
  auto e = nightly(Json{{"cron", "0 3 * * *"}, {"only_if_changed", true}});
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({e});
    change("main");
    clock.advance(1h);
  }
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({e});
  EXPECT_EQ(count(), 0u);
  clock.advance(14h);
  ASSERT_EQ(count(), 1u);
  EXPECT_EQ(buildsets_()[0].sourcestamp.changeIds.size(), 1u);
}

TEST_F(TimedSchedulersTest, NightlyMissedWhileDownBuildsOnceAtStart) {
  const auto e = nightly(Json{{"cron", "0 3 * * *"}});
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({e});
    clock.advance(1h);
  }
  clock.advance(72h);  // three 03:00s pass while the master is down
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({e});
  EXPECT_EQ(count(), 1u);
  auto* n = dynamic_cast<NightlyScheduler*>(again.find("nightly"));
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(n->nextFire());
  EXPECT_EQ(*n->nextFire(), timedSchedulersUtc(2024, 1, 14, 3, 0));  // now is 13:00 on the 13th
  clock.advance(14h);
  EXPECT_EQ(count(), 2u);
}

TEST_F(TimedSchedulersTest, NightlyRestartBeforeItsTimeDoesNotBuild) {
  const auto e = nightly(Json{{"cron", "0 3 * * *"}});
  { SchedulerSet({db, clock, buildsets}, bus).configure({e}); }
  clock.advance(14h);  // 02:00, before the slot
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({e});
  EXPECT_EQ(count(), 0u);
  clock.advance(1h);
  EXPECT_EQ(count(), 1u);
}

TEST_F(TimedSchedulersTest, NightlyNewScheduleDoesNotCountAsMissed) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({nightly(Json{{"cron", "0 13 * * *"}})});
  clock.advance(1h);  // builds at 13:00
  ASSERT_EQ(count(), 1u);
  clock.advance(22h);  // 11:00 the next day
  // 01:00 has passed since the last build, but under the old schedule.
  set.configure({nightly(Json{{"cron", "0 1 * * *"}})});
  EXPECT_EQ(count(), 1u);
  auto* n = dynamic_cast<NightlyScheduler*>(set.find("nightly"));
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(n->nextFire());
  EXPECT_EQ(*n->nextFire(), timedSchedulersUtc(2024, 1, 12, 1, 0));
}

TEST_F(TimedSchedulersTest, NightlyWithABadCronNeverBuilds) {
  const auto bad = nightly(Json{{"cron", "0 25 * * *"}});
  EXPECT_THROW(NightlyScheduler::validate(bad), CronError);
  EXPECT_THROW(NightlyScheduler::validate(nightly(Json{{"cron", "0 3 * * *"}, {"timezone", "Nowhere/City"}})),
               CronError);
  EXPECT_THROW(NightlyScheduler::validate(nightly(Json{{"cron", "0 3 * * *"}, {"only_if_changed", "yes"}})),
               CronError);
  EXPECT_NO_THROW(NightlyScheduler::validate(nightly(Json{{"cron", "0 3 * * *"}})));
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({bad});
  clock.advance(48h);
  EXPECT_EQ(count(), 0u);
}

TEST_F(TimedSchedulersTest, WallAlarmFiresOnTheWallClockNotTheSteadyOne) {
  WallAlarm alarm(clock);
  int fired = 0;
  alarm.at(clock.wallNow() + 3h, [&] { ++fired; });
  clock.advance(2h);
  clock.setWall(clock.wallNow() - 1h);  // the wall clock is set back an hour
  clock.advance(1h);
  EXPECT_EQ(fired, 0);  // steady time is up, but the wall clock is not there yet
  clock.advance(1h);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(alarm.pending());
}

// --- any_branch -------------------------------------------------------------

TEST_F(TimedSchedulersTest, AnyBranchKeepsOneTimerPerBranch) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({anyBranch(30)});
  const auto m1 = change("main");
  clock.advance(20s);
  const auto f1 = change("feature");
  clock.advance(11s);  // main quiet for 31s; feature only 11s
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].sourcestamp.branch, "main");
  EXPECT_EQ(all[0].sourcestamp.changeIds, std::vector<std::int64_t>{m1});
  const auto f2 = change("feature");  // restarts feature's timer only
  clock.advance(29s);
  EXPECT_EQ(count(), 1u);
  clock.advance(1s);
  all = buildsets_();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].sourcestamp.branch, "feature");
  EXPECT_EQ(all[1].sourcestamp.changeIds, (std::vector<std::int64_t>{f1, f2}));
  EXPECT_EQ(all[1].reason, "scheduler any: 2 changes on feature");
}

TEST_F(TimedSchedulersTest, AnyBranchSeparatesRepositories) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({anyBranch(10)});
  change("main", {"src/a.c"}, "app");
  change("main", {"src/a.c"}, "lib");
  auto* a = dynamic_cast<AnyBranchScheduler*>(set.find("any"));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->pendingBranches().size(), 2u);
  clock.advance(11s);
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NE(all[0].sourcestamp.repository, all[1].sourcestamp.repository);
  EXPECT_TRUE(a->pendingBranches().empty());
}

TEST_F(TimedSchedulersTest, AnyBranchWithoutTimerBuildsEachImportantChangeOnMatchingBranches) {
  auto e = anyBranch(0, Json::array({"main", "release/*"}));
  e.files.include = {"src/**"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  change("main");
  change("release/1.0");
  change("feature/x");                // not in `branches`
  change("release/1.0/hotfix");       // `*` stays within one segment
  change("main", {"docs/readme.md"});  // unimportant
  auto all = buildsets_();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].sourcestamp.branch, "main");
  EXPECT_EQ(all[1].sourcestamp.branch, "release/1.0");
}

TEST_F(TimedSchedulersTest, AnyBranchUnimportantChangesRideAlong) {
  auto e = anyBranch(30);
  e.files.include = {"src/**"};
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({e});
  change("main", {"docs/a.md"});  // no timer starts for it
  clock.advance(60s);
  EXPECT_EQ(count(), 0u);
  change("main", {"src/b.c"});
  clock.advance(31s);
  ASSERT_EQ(count(), 1u);
  EXPECT_EQ(buildsets_()[0].sourcestamp.changeIds.size(), 2u);
}

TEST_F(TimedSchedulersTest, AnyBranchPendingTimersSurviveARestart) {
  {
    SchedulerSet set({db, clock, buildsets}, bus);
    set.configure({anyBranch(30)});
    change("main");
    clock.advance(10s);
    change("feature");
    clock.advance(5s);
  }
  SchedulerSet again({db, clock, buildsets}, bus);
  again.configure({anyBranch(30)});
  clock.advance(14s);
  EXPECT_EQ(count(), 0u);
  clock.advance(2s);  // main's deadline (30s after its change)
  ASSERT_EQ(count(), 1u);
  EXPECT_EQ(buildsets_()[0].sourcestamp.branch, "main");
  clock.advance(10s);  // feature's
  ASSERT_EQ(count(), 2u);
  EXPECT_EQ(buildsets_()[1].sourcestamp.branch, "feature");
}

TEST_F(TimedSchedulersTest, NewTypesAreRegistered) {
  for (const char* type : {"any_branch", "periodic", "nightly"})
    EXPECT_TRUE(SchedulerSet::isImplemented(type)) << type;
}

}  // namespace
}  // namespace bb
