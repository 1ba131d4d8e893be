// Scheduler state written by a master before schema version 4 (held changes
// listed inside the scheduler's "pending" state) is moved to one row per
// change by `upgrade-master`, and the schedulers then build those changes.
// The database is made at version 3, as an older master left it.
#include <gtest/gtest.h>
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

namespace fs = std::filesystem;
using namespace std::chrono;
using namespace std::chrono_literals;

// The schema version before pending changes had a row each.
constexpr int kListStyleVersion = 3;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bb_old_state_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::int64_t addChange(db::Database& db, const std::string& branch, const std::string& rev) {
  db::ChangeRecord c;
  c.author = "dev";
  c.branch = branch;
  c.repository = "app";
  c.revision = rev;
  c.files = {"src/a.c"};
  c.source = "sendchange";
  return db.addChange(c);
}

SchedulerEntry entry(const std::string& name, const std::string& type) {
  SchedulerEntry e;
  e.name = name;
  e.type = type;
  e.builders = {"b1"};
  return e;
}

TEST(OldSchedulerState, UpgradeMovesHeldChangesToRowsAndTheSchedulersBuildThem) {
  TempDir dir;
  const std::string file = (dir.path / "state.sqlite").string();
  ManualClock clock;
  clock.setWall(sys_days(year(2024) / 1 / 10) + 12h);
  const std::int64_t nowMs = duration_cast<milliseconds>(clock.wallNow().time_since_epoch()).count();
  std::int64_t s1, s2, m1, m2, f1, n1;
  {
    db::Database old(file);
    old.upgradeTo(kListStyleVersion);
    s1 = addChange(old, "main", "s1");
    s2 = addChange(old, "main", "s2");
    m1 = addChange(old, "main", "m1");
    m2 = addChange(old, "main", "m2");
    f1 = addChange(old, "feature", "f1");
    n1 = addChange(old, "main", "n1");
    // What older masters wrote for single_branch, any_branch and nightly.
    old.setState("scheduler:quick", "pending",
                 Json{{"changes", {s1, s2}}, {"important", true}, {"fire_at_ms", nowMs + 5000}});
    old.setState("scheduler:any", "pending",
                 Json::array({Json{{"repository", "app"}, {"branch", "main"}, {"changes", {m1, m2}},
                                   {"important", true}, {"fire_at_ms", nowMs + 5000}},
                              Json{{"repository", "app"}, {"branch", "feature"}, {"changes", {f1}},
                                   {"important", true}, {"fire_at_ms", nowMs + 20000}}}));
    old.setState("scheduler:nightly", "pending", Json{{"changes", {n1}}, {"important", true}});
  }
  db::Database db(file);
  EXPECT_THROW(db.requireCurrentSchema(), DbError);  // the master refuses to start
  db.upgrade();                                           // what `upgrade-master` runs
  ASSERT_NO_THROW(db.requireCurrentSchema());
  EXPECT_EQ(db.statesWithPrefix("scheduler:quick", "pending-change:").size(), 2u);
  EXPECT_EQ(db.statesWithPrefix("scheduler:any", "pending-change:").size(), 3u);
  EXPECT_EQ(db.statesWithPrefix("scheduler:nightly", "pending-change:").size(), 1u);

  EventBus events{clock, [](std::function<void()> fn) { fn(); },
                 [&db](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService buildsets(db, events);
  ChangeBus bus(db, events);
  SchedulerSet set({db, clock, buildsets}, bus);
  auto quick = entry("quick", "single_branch");
  quick.branch = "main";
  quick.treeStableTimer = 30;
  auto any = entry("any", "any_branch");
  any.treeStableTimer = 30;
  auto nightly = entry("nightly", "nightly");
  nightly.branch = "main";
  nightly.extra = Json{{"cron", "0 13 * * *"}, {"only_if_changed", true}};
  set.configure({quick, any, nightly});

  clock.advance(6s);  // quick's and any's main deadlines
  clock.advance(15s);  // any's feature deadline
  clock.advance(61min);  // 13:00 passes: nightly
  std::map<std::string, std::vector<std::vector<std::int64_t>>> built;
  for (std::int64_t id = 1; id < 20; ++id)
    if (auto bs = db.getBuildset(id)) built[bs->scheduler].push_back(bs->sourcestamp.changeIds);
  using Ids = std::vector<std::vector<std::int64_t>>;
  EXPECT_EQ(built["quick"], (Ids{{s1, s2}}));
  EXPECT_EQ(built["any"], (Ids{{m1, m2}, {f1}}));
  EXPECT_EQ(built["nightly"], (Ids{{n1}}));
  for (const char* object : {"scheduler:quick", "scheduler:any", "scheduler:nightly"})
    EXPECT_TRUE(db.statesWithPrefix(object, "pending-change:").empty()) << object;
}

}  // namespace
}  // namespace bb
