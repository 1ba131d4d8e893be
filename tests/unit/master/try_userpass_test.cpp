// The try_userpass scheduler's uploads against an in-memory database and a
// manual clock: a job's fields are checked before its patch, chunks go in
// order and up to the announced size, an upload belongs to its user, at
// most kMaxUploads are kept (the oldest dropped) and none past kUploadTtl.
#include "master/schedulers/try_userpass.hpp"

#include <gtest/gtest.h>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"

namespace bb {
namespace {

class TryUserpassTest : public ::testing::Test {
 protected:
  TryUserpassTest() : db(":memory:"), buildsets(db, events) {
    db.upgrade();
    SchedulerEntry e;
    e.name = "up";
    e.type = "try_userpass";
    e.builders = {"app"};
    e.extra = Json{{"max_patch_bytes", 100}};
    sched = std::make_unique<TryUserpassScheduler>(e, SchedulerContext{db, clock, buildsets, "", nullptr});
  }
  TryJob job(const std::string& id) {
    TryJob j;
    j.jobId = id;
    j.builders = {"app"};
    j.who = "someone else";
    return j;
  }
  template <class F>
  std::string refusal(F f) {
    try {
      f();
    } catch (const TryRefused& e) {
      return e.what();
    }
    return "";
  }

  db::Database db;
  ManualClock clock;
  EventBus events{clock, [](std::function<void()> fn) { fn(); },
                 [this](std::function<void()> fn) { db.afterCommit(std::move(fn)); }};
  BuildsetService buildsets;
  std::unique_ptr<TryUserpassScheduler> sched;
  const std::string patch = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
};

TEST_F(TryUserpassTest, ChunksInOrderMakeOneBuildsetOwnedByTheUser) {
  const std::string id = sched->begin("alice", job("j1"), static_cast<std::int64_t>(patch.size()));
  EXPECT_EQ(sched->append("alice", id, 0, patch.substr(0, 10)), 10);
  EXPECT_NE(refusal([&] { sched->append("alice", id, 3, "x"); }).find("chunk at offset 3, expected 10"), std::string::npos);
  EXPECT_NE(refusal([&] { sched->append("bob", id, 10, "x"); }).find("unknown upload 'j1'"), std::string::npos);
  EXPECT_EQ(sched->append("alice", id, 10, patch.substr(10)), static_cast<std::int64_t>(patch.size()));
  const NewBuildset made = sched->finish("alice", id);
  auto p = db.getBuildsetPatch(made.id);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->body, patch);
  EXPECT_EQ(p->who, "alice");  // the logged-in user, not the job's `who`
  EXPECT_EQ(sched->describe()["chunks"], 2);
  // The id is used now: a second job with it is refused before any byte.
  EXPECT_NE(refusal([&] { sched->begin("alice", job("j1"), 1); }).find("job id already in use"), std::string::npos);
}

TEST_F(TryUserpassTest, FieldsAndSizeAreCheckedBeforeThePatch) {
  TryJob other = job("j2");
  other.builders = {"elsewhere"};
  EXPECT_NE(refusal([&] { sched->begin("alice", other, 10); }).find("builder 'elsewhere' may not be tried here; it can try: app"),
            std::string::npos);
  EXPECT_NE(refusal([&] { sched->begin("alice", job("j3"), 101); }).find("max_patch_bytes (100)"), std::string::npos);
  EXPECT_NE(refusal([&] { sched->begin("alice", job("j4"), -1); }).find("must not be negative"), std::string::npos);
  EXPECT_EQ(sched->describe()["uploads"], 0);
}

TEST_F(TryUserpassTest, UploadsAreBoundedInNumberAndTime) {
  for (std::size_t i = 0; i < TryUserpassScheduler::kMaxUploads; ++i) {
    sched->begin("alice", job("u" + std::to_string(i)), 5);
    clock.advance(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(sched->describe()["uploads"], TryUserpassScheduler::kMaxUploads);
  sched->begin("alice", job("newest"), 5);  // drops u0, the oldest
  EXPECT_EQ(sched->describe()["uploads"], TryUserpassScheduler::kMaxUploads);
  EXPECT_NE(refusal([&] { sched->append("alice", "u0", 0, "x"); }).find("unknown upload 'u0'"), std::string::npos);
  EXPECT_EQ(sched->append("alice", "u1", 0, "x"), 1);
  clock.advance(TryUserpassScheduler::kUploadTtl + std::chrono::seconds(1));
  sched->begin("alice", job("later"), 5);  // the stale ones go
  EXPECT_EQ(sched->describe()["uploads"], 1);
  EXPECT_NE(refusal([&] { sched->finish("alice", "u1"); }).find("unknown upload 'u1'"), std::string::npos);
}

}  // namespace
}  // namespace bb
