// What each scheduler type says of its own state (describe(), shown by
// `buildbot status` and sent as scheduler.state events), and a timer
// callback whose work fails: recorded, the changes kept, tried again.
// In-memory or temporary databases and a ManualClock: no test sleeps.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/changes/change_bus.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/schedulers/scheduler_set.hpp"

namespace bb {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

WallTime schedulerDescribeUtc(int y, unsigned mo, unsigned d, int h, int mi) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi);
}
std::int64_t secs(WallTime t) { return duration_cast<seconds>(t.time_since_epoch()).count(); }

class SchedulerDescribeTest : public ::testing::Test {
 protected:
  explicit SchedulerDescribeTest(const std::string& path = ":memory:")
      : db(path), buildsets(db, events), bus(db, events) {
    db.upgrade();
    clock.setWall(schedulerDescribeUtc(2026, 12, 1, 12, 0));
    Subscriber s;
    s.name = "test";
    s.filter.types = {EventType::SchedulerState};
    s.deliver = [this](const Event& e) {
      states.push_back(e);
      return true;
    };
    events.subscribe(std::move(s));
  }

  SchedulerEntry entry(const std::string& name, const std::string& type, Json extra = Json::object()) {
    SchedulerEntry e;
    e.name = name;
    e.type = type;
    e.builders = {"b1"};
    e.extra = std::move(extra);
    return e;
  }

  std::int64_t change(const std::string& branch, const std::string& repository = "app") {
    db::ChangeRecord c;
    c.author = "dev";
    c.branch = branch;
    c.repository = repository;
    c.revision = "r" + std::to_string(++revs);
    c.files = {"src/a.c"};
    c.source = "sendchange";
    return bus.addChange(c);
  }

  // The last scheduler.state event of `name`.
  const Event* lastState(const std::string& name) const {
    for (auto it = states.rbegin(); it != states.rend(); ++it)
      if (it->scheduler == name) return &*it;
    return nullptr;
  }

  db::Database db;
  ManualClock clock;
  int revs = 0;
  std::vector<Event> states;
  EventBus events{clock, [](std::function<void()> fn) { fn(); },
                 [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService buildsets;
  ChangeBus bus;
};

TEST_F(SchedulerDescribeTest, SingleBranchShowsItsDeadlineAndHeldChangesAndAnnouncesThem) {
  SchedulerSet set({db, clock, buildsets}, bus);
  SchedulerEntry e = entry("quick", "single_branch");
  e.branch = "main";
  e.treeStableTimer = 60;
  set.configure({e});
  Json d = set.find("quick")->describe();
  EXPECT_EQ(d["stable_at"], nullptr);
  EXPECT_TRUE(d["held_changes"].empty());
  const std::int64_t c1 = change("main");
  clock.advance(10s);
  const std::int64_t c2 = change("main");
  d = set.find("quick")->describe();
  EXPECT_EQ(d["tree_stable_timer"], 60);
  EXPECT_EQ(d["stable_at"], secs(schedulerDescribeUtc(2026, 12, 1, 12, 1)) + 10) << "restarted by the second change";
  EXPECT_EQ(d["held_changes"], Json::array({c1, c2}));
  EXPECT_EQ(d["held_count"], 2);
  EXPECT_EQ(d["important"], true);
  ASSERT_NE(lastState("quick"), nullptr) << "holding a change is announced";
  EXPECT_EQ(lastState("quick")->data["held_change"], c2);
  EXPECT_EQ(lastState("quick")->data["held_count"], 2);
  EXPECT_EQ(lastState("quick")->data["stable_at"], d["stable_at"]);
  clock.advance(60s);
  d = set.find("quick")->describe();
  EXPECT_EQ(d["stable_at"], nullptr);
  EXPECT_TRUE(d["held_changes"].empty()) << "the build took them";
  EXPECT_EQ(lastState("quick")->data["released_changes"], 2) << "firing is announced";
  EXPECT_EQ(lastState("quick")->data["held_count"], 0);
  EXPECT_TRUE(db.getBuildset(1).has_value());
}

TEST_F(SchedulerDescribeTest, ALongHoldListsTheOldestChangesAndCountsAll) {
  SchedulerSet set({db, clock, buildsets}, bus);
  SchedulerEntry e = entry("slow", "single_branch");
  e.branch = "main";
  e.treeStableTimer = 3600;
  set.configure({e});
  const std::int64_t first = change("main");
  for (int i = 1; i < 120; ++i) change("main");
  const Json d = set.find("slow")->describe();
  EXPECT_EQ(d["held_count"], 120);
  ASSERT_EQ(d["held_changes"].size(), Scheduler::kHeldListed);
  EXPECT_EQ(d["held_changes"][0], first);
  EXPECT_EQ(lastState("slow")->data["held_count"], 120);
  EXPECT_FALSE(lastState("slow")->data.contains("held_changes")) << "events stay small";
}

TEST_F(SchedulerDescribeTest, AnyBranchShowsEachBranchAndTheEarliestDeadline) {
  SchedulerSet set({db, clock, buildsets}, bus);
  SchedulerEntry e = entry("any", "any_branch");
  e.treeStableTimer = 100;
  set.configure({e});
  const std::int64_t a = change("dev");
  clock.advance(30s);
  const std::int64_t b = change("feature");
  const Json d = set.find("any")->describe();
  EXPECT_EQ(d["stable_at"], secs(schedulerDescribeUtc(2026, 12, 1, 12, 0)) + 100) << "dev's timer fires first";
  EXPECT_EQ(d["held_changes"], Json::array({a, b}));
  ASSERT_EQ(d["branches"].size(), 2u);
  EXPECT_EQ(d["branches"][0]["branch"], "dev");
  EXPECT_EQ(d["branches"][1]["branch"], "feature");
  EXPECT_EQ(d["branches"][1]["stable_at"], secs(schedulerDescribeUtc(2026, 12, 1, 12, 0)) + 130);
}

TEST_F(SchedulerDescribeTest, NightlyShowsItsNextRunInItsTimeZoneAndItsHeldChanges) {
  SchedulerSet set({db, clock, buildsets}, bus);
  SchedulerEntry e = entry("night", "nightly",
                           Json{{"cron", "0 3 * * *"}, {"timezone", "Europe/Berlin"},
                                {"only_if_changed", true}});
  e.branch = "main";
  set.configure({e});
  const std::int64_t c = change("main");
  const Json d = set.find("night")->describe();
  // 03:00 in Berlin on 2 December is 02:00 UTC.
  EXPECT_EQ(d["next_fire_at"], secs(schedulerDescribeUtc(2026, 12, 2, 2, 0)));
  EXPECT_EQ(d["next_fire_local"], "2026-12-02 03:00:00 CET (+01:00)");
  EXPECT_EQ(d["timezone"], "Europe/Berlin");
  EXPECT_EQ(d["cron"], "0 3 * * *");
  EXPECT_EQ(d["held_changes"], Json::array({c}));
  ASSERT_NE(lastState("night"), nullptr);
  EXPECT_EQ(lastState("night")->data["held_change"], c);
  EXPECT_EQ(lastState("night")->data["held_count"], 1);
  clock.advance(14h);  // 02:00 UTC
  EXPECT_TRUE(set.find("night")->describe()["held_changes"].empty());
  EXPECT_EQ(lastState("night")->data["next_fire_at"], secs(schedulerDescribeUtc(2026, 12, 3, 2, 0)))
      << "the next run is announced once it fired";
  EXPECT_EQ(lastState("night")->data["held_count"], 0) << "the run took the held change";
}

TEST_F(SchedulerDescribeTest, PeriodicShowsItsIntervalAndNextRun) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({entry("tick", "periodic", Json{{"interval", 600}})});
  const Json d = set.find("tick")->describe();
  EXPECT_EQ(d["interval"], 600);
  EXPECT_EQ(d["next_fire_at"], secs(schedulerDescribeUtc(2026, 12, 1, 12, 10))) << "built at start, next in 600 s";
  EXPECT_EQ(d["timezone"], "UTC");
  ASSERT_NE(lastState("tick"), nullptr);
  EXPECT_EQ(lastState("tick")->data["next_fire_at"], d["next_fire_at"]);
}

TEST_F(SchedulerDescribeTest, DependentForceAndTriggerableSayWhatStartsThem) {
  SchedulerSet set({db, clock, buildsets}, bus);
  set.configure({entry("up", "force"), entry("down", "dependent", Json{{"upstream", "up"}}),
                 entry("kids", "triggerable")});
  EXPECT_EQ(set.find("down")->describe()["upstream"], "up");
  const Json force = set.find("up")->describe();
  EXPECT_EQ(force["builders"], Json::array({"b1"}));
  EXPECT_NE(std::find(force["fields"].begin(), force["fields"].end(), "revision"), force["fields"].end());
  EXPECT_EQ(set.find("kids")->describe()["started_by"], "trigger steps");
}

// A tree-stable timer whose BuildSet cannot be written: the scheduler
// records the error, keeps the changes and tries again one period later.
class SchedulerTimerFailureTest : public SchedulerDescribeTest {
 protected:
  SchedulerTimerFailureTest() : SchedulerDescribeTest(path()) {}
  ~SchedulerTimerFailureTest() override { std::filesystem::remove(path()); }
  static std::string path() {
    return (std::filesystem::temp_directory_path() /
            ("bb-sched-fail-" + std::to_string(::getpid()) + ".sqlite"))
        .string();
  }
  // Runs `sql` on a second connection to the same file.
  void sql(const std::string& text) {
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &other), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(other, text.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(other);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }
};

TEST_F(SchedulerTimerFailureTest, AFailedFireIsRecordedAndTheChangesStayHeld) {
  SchedulerSet set({db, clock, buildsets}, bus);
  SchedulerEntry e = entry("quick", "single_branch");
  e.branch = "main";
  e.treeStableTimer = 60;
  set.configure({e});
  const std::int64_t c = change("main");
  sql("CREATE TRIGGER no_buildsets BEFORE INSERT ON buildsets "
      "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;");
  clock.advance(60s);
  Scheduler* s = set.find("quick");
  EXPECT_NE(s->lastError().find("disk on fire"), std::string::npos) << s->lastError();
  Json d = s->describe();
  EXPECT_EQ(d["held_changes"], Json::array({c})) << "nothing was lost";
  EXPECT_EQ(d["stable_at"], secs(schedulerDescribeUtc(2026, 12, 1, 12, 2))) << "tried again one period later";
  ASSERT_NE(lastState("quick"), nullptr);
  EXPECT_NE(lastState("quick")->data.value("error", "").find("disk on fire"), std::string::npos);
  EXPECT_FALSE(db.getBuildset(1).has_value());
  sql("DROP TRIGGER no_buildsets;");
  clock.advance(60s);
  EXPECT_TRUE(s->describe()["held_changes"].empty());
  auto bs = db.getBuildset(1);
  ASSERT_TRUE(bs.has_value());
  EXPECT_EQ(bs->sourcestamp.changeIds, std::vector<std::int64_t>{c});
}

}  // namespace
}  // namespace bb
