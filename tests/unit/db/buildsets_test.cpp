// Buildsets, build requests: creation, pending order, claims, completion.
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class Buildsets : public ::testing::Test {
 protected:
  void SetUp() override {
    db.upgrade();
    master = db.registerMaster("m", 1);
  }

  BuildsetRecord buildset(std::int64_t submittedAt = 100) {
    BuildsetRecord bs;
    bs.reason = "scheduler quick";
    bs.scheduler = "quick";
    bs.sourcestamp = {"/srv/git/app.git", "main", "abc", "app", {}};
    bs.properties = {{"reason", "test"}};
    bs.submittedAt = submittedAt;
    return bs;
  }

  Database db{":memory:"};
  MasterId master;
};

TEST_F(Buildsets, ThreeBuildersCreateThreeRequests) {
  ChangeRecord c;
  c.revision = "abc";
  const std::int64_t c1 = db.addChange(c);
  const std::int64_t c2 = db.addChange(c);
  BuildsetRecord bs = buildset();
  bs.sourcestamp.changeIds = {c2, c1};

  const auto [bsid, reqs] = db.addBuildset(bs, {"linux", "mac", "win"}, 5);
  ASSERT_EQ(reqs.size(), 3u);
  const auto stored = db.getBuildset(bsid);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->reason, bs.reason);
  EXPECT_EQ(stored->scheduler, "quick");
  EXPECT_EQ(stored->sourcestamp.repository, "/srv/git/app.git");
  EXPECT_EQ(stored->sourcestamp.branch, "main");
  EXPECT_EQ(stored->sourcestamp.revision, "abc");
  EXPECT_EQ(stored->sourcestamp.project, "app");
  EXPECT_EQ(stored->sourcestamp.changeIds, (std::vector<std::int64_t>{c2, c1}));
  EXPECT_EQ(stored->properties, bs.properties);
  EXPECT_EQ(stored->submittedAt, 100);
  EXPECT_FALSE(stored->complete);

  const auto requests = db.requestsForBuildset(bsid);
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& r : requests) {
    EXPECT_EQ(reqs.at(r.builder), r.id);
    EXPECT_EQ(r.buildsetId, bsid);
    EXPECT_EQ(r.priority, 5);
    EXPECT_EQ(r.submittedAt, 100);
    EXPECT_FALSE(r.claimed);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.retries, 0);
  }
  EXPECT_EQ(db.buildsetsForChange(c1), std::vector<std::int64_t>{bsid});
  EXPECT_EQ(db.builderNames(), (std::vector<std::string>{"linux", "mac", "win"}));
}

TEST_F(Buildsets, DuplicateBuildersGetOneRequest) {
  const auto [bsid, reqs] = db.addBuildset(buildset(), {"a", "a", "b"}, 0);
  EXPECT_EQ(reqs.size(), 2u);
  EXPECT_EQ(db.requestsForBuildset(bsid).size(), 2u);
}

TEST_F(Buildsets, UnknownChangeIsRejectedAndNothingIsStored) {
  BuildsetRecord bs = buildset();
  bs.sourcestamp.changeIds = {999};
  EXPECT_THROW(db.addBuildset(bs, {"a"}, 0), DbError);
  EXPECT_TRUE(db.pendingRequests().empty());
  EXPECT_TRUE(db.incompleteBuildsets().empty());
}

TEST_F(Buildsets, PendingOrderedByPriorityThenAgeThenId) {
  const auto low_old = db.addBuildset(buildset(10), {"b1"}, 0).second.at("b1");
  const auto high_new = db.addBuildset(buildset(30), {"b2"}, 10).second.at("b2");
  const auto high_old = db.addBuildset(buildset(20), {"b3"}, 10).second.at("b3");
  const auto low_new_a = db.addBuildset(buildset(40), {"b4"}, 0).second.at("b4");
  const auto low_new_b = db.addBuildset(buildset(40), {"b5"}, 0).second.at("b5");
  const auto negative = db.addBuildset(buildset(1), {"b6"}, -5).second.at("b6");

  std::vector<std::int64_t> order;
  for (const auto& r : db.pendingRequests()) order.push_back(r.id);
  EXPECT_EQ(order, (std::vector<std::int64_t>{high_old, high_new, low_old, low_new_a, low_new_b,
                                              negative}));
}

TEST_F(Buildsets, ClaimIsExclusive) {
  const auto brid = db.addBuildset(buildset(), {"a"}, 0).second.at("a");
  EXPECT_TRUE(db.claimRequest(brid, master, 200));
  EXPECT_FALSE(db.claimRequest(brid, master, 201));
  const auto r = db.getRequest(brid);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->claimed);
  EXPECT_EQ(r->claimedAt, 200);
  EXPECT_TRUE(db.pendingRequests().empty());
  EXPECT_FALSE(db.claimRequest(424242, master, 1));  // unknown
}

TEST_F(Buildsets, UnclaimReturnsToPendingAndCountsRetries) {
  const auto brid = db.addBuildset(buildset(), {"a"}, 0).second.at("a");
  ASSERT_TRUE(db.claimRequest(brid, master, 200));
  db.unclaimRequest(brid, /*countRetry=*/true);
  auto r = db.getRequest(brid);
  EXPECT_FALSE(r->claimed);
  EXPECT_EQ(r->claimedAt, 0);
  EXPECT_EQ(r->retries, 1);
  ASSERT_EQ(db.pendingRequests().size(), 1u);

  ASSERT_TRUE(db.claimRequest(brid, master, 300));
  db.unclaimRequest(brid, /*countRetry=*/false);
  r = db.getRequest(brid);
  EXPECT_FALSE(r->claimed);
  EXPECT_EQ(r->retries, 1);
  EXPECT_TRUE(db.claimRequest(brid, master, 400));
}

TEST_F(Buildsets, UnclaimAllAfterRestart) {
  const auto reqs = db.addBuildset(buildset(), {"a", "b", "c"}, 0).second;
  ASSERT_TRUE(db.claimRequest(reqs.at("a"), master, 1));
  ASSERT_TRUE(db.claimRequest(reqs.at("b"), master, 1));
  ASSERT_TRUE(db.completeRequest(reqs.at("b"), Result::Success, 2) == std::nullopt);
  EXPECT_EQ(db.unclaimRequestsOf(master), 1);  // b is complete: left alone
  EXPECT_EQ(db.pendingRequests().size(), 2u);
}

TEST_F(Buildsets, CompletesOnlyWithTheLastRequestWithWorstResult) {
  const auto [bsid, reqs] = db.addBuildset(buildset(), {"a", "b", "c"}, 0);
  EXPECT_EQ(db.completeRequest(reqs.at("a"), Result::Warnings, 500), std::nullopt);
  EXPECT_FALSE(db.getBuildset(bsid)->complete);
  EXPECT_EQ(db.completeRequest(reqs.at("b"), Result::Skipped, 501), std::nullopt);
  EXPECT_FALSE(db.getBuildset(bsid)->complete);
  ASSERT_EQ(db.incompleteBuildsets().size(), 1u);

  const auto done = db.completeRequest(reqs.at("c"), Result::Success, 502);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->buildsetId, bsid);
  EXPECT_EQ(done->result, Result::Warnings);
  const auto bs = db.getBuildset(bsid);
  EXPECT_TRUE(bs->complete);
  EXPECT_EQ(bs->completeAt, 502);
  EXPECT_EQ(bs->result, Result::Warnings);
  EXPECT_TRUE(db.incompleteBuildsets().empty());

  const auto c = db.getRequest(reqs.at("c"));
  EXPECT_TRUE(c->complete);
  EXPECT_EQ(c->completeAt, 502);
  // Completing again changes nothing and reports nothing.
  EXPECT_EQ(db.completeRequest(reqs.at("c"), Result::Failure, 600), std::nullopt);
  EXPECT_EQ(db.getRequest(reqs.at("c"))->result, Result::Success);
  EXPECT_EQ(db.getBuildset(bsid)->result, Result::Warnings);
}

TEST_F(Buildsets, AllSkippedGivesSkipped) {
  const auto [bsid, reqs] = db.addBuildset(buildset(), {"a", "b"}, 0);
  db.completeRequest(reqs.at("a"), Result::Skipped, 1);
  const auto done = db.completeRequest(reqs.at("b"), Result::Skipped, 2);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->result, Result::Skipped);
}

TEST_F(Buildsets, FailureAndCancelledPickCancelled) {
  const auto [bsid, reqs] = db.addBuildset(buildset(), {"a", "b"}, 0);
  db.completeRequest(reqs.at("a"), Result::Cancelled, 1);
  const auto done = db.completeRequest(reqs.at("b"), Result::Failure, 2);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->result, Result::Cancelled);
}

TEST_F(Buildsets, CompletedRequestCannotBeClaimedOrUnclaimed) {
  const auto brid = db.addBuildset(buildset(), {"a"}, 0).second.at("a");
  ASSERT_TRUE(db.claimRequest(brid, master, 1));
  ASSERT_TRUE(db.completeRequest(brid, Result::Success, 2).has_value());
  db.unclaimRequest(brid, true);
  const auto r = db.getRequest(brid);
  EXPECT_TRUE(r->claimed);
  EXPECT_EQ(r->retries, 0);
  EXPECT_FALSE(db.claimRequest(brid, master, 3));
  EXPECT_TRUE(db.pendingRequests().empty());
}

TEST_F(Buildsets, CompletingAnUnknownRequestThrows) {
  EXPECT_THROW(db.completeRequest(777, Result::Success, 1), DbError);
}

}  // namespace
}  // namespace bb::db
