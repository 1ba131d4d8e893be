// Cancelling, re-prioritising and collapsing pending requests; child BuildSets.
#include <gtest/gtest.h>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

class Requests : public ::testing::Test {
 protected:
  void SetUp() override {
    db.upgrade();
    master = db.registerMaster("m", 1);
  }

  // A buildset on `branch` with one request per builder; returns builder -> request.
  std::map<std::string, std::int64_t> submit(const std::vector<std::string>& builders,
                                             const std::string& branch = "main",
                                             std::int64_t parent = 0,
                                             const std::string& project = "app") {
    BuildsetRecord bs;
    bs.sourcestamp.repository = "repo";
    bs.sourcestamp.branch = branch;
    bs.sourcestamp.project = project;
    bs.parentBuildId = parent;
    bs.submittedAt = ++now;
    return db.addBuildset(bs, builders, 0).second;
  }

  Database db{":memory:"};
  MasterId master;
  std::int64_t now = 1000;
};

TEST_F(Requests, CancelPendingCompletesItAsCancelledWithText) {
  const auto r = submit({"a"});
  const CancelResult res = db.cancelRequest(r.at("a"), "cancelled by alice", 2000);
  EXPECT_EQ(res.outcome, CancelOutcome::Cancelled);
  ASSERT_TRUE(res.completion.has_value());
  EXPECT_EQ(res.completion->result, Result::Cancelled);
  const auto req = db.getRequest(r.at("a"));
  ASSERT_TRUE(req.has_value());
  EXPECT_TRUE(req->complete);
  EXPECT_EQ(req->result, Result::Cancelled);
  EXPECT_EQ(req->completeText, "cancelled by alice");
  EXPECT_EQ(req->completeAt, 2000);
  EXPECT_TRUE(db.pendingRequests().empty());
}

TEST_F(Requests, CancelLeavesClaimedCompleteAndUnknownAlone) {
  const auto r = submit({"a", "b"});
  ASSERT_TRUE(db.claimRequest(r.at("a"), master, 1));
  EXPECT_EQ(db.cancelRequest(r.at("a"), "x", 2).outcome, CancelOutcome::Claimed);
  EXPECT_FALSE(db.getRequest(r.at("a"))->complete);
  // Cancelling one of two requests does not complete the buildset.
  const CancelResult b = db.cancelRequest(r.at("b"), "x", 2);
  EXPECT_EQ(b.outcome, CancelOutcome::Cancelled);
  EXPECT_FALSE(b.completion.has_value());
  EXPECT_EQ(db.cancelRequest(r.at("b"), "x", 3).outcome, CancelOutcome::Complete);
  EXPECT_EQ(db.cancelRequest(9999, "x", 3).outcome, CancelOutcome::Unknown);
  // The buildset's result is the worst of its requests once the last ends.
  const auto done = db.completeRequest(r.at("a"), Result::Success, 4);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->result, Result::Cancelled);
}

TEST_F(Requests, PriorityReordersThePendingQueue) {
  const auto first = submit({"a"}).at("a");
  const auto second = submit({"a"}).at("a");
  EXPECT_EQ(db.pendingRequests().front().id, first);
  EXPECT_TRUE(db.setRequestPriority(second, 5));
  EXPECT_EQ(db.pendingRequests().front().id, second);
  EXPECT_EQ(db.getRequest(second)->priority, 5);
  db.completeRequest(first, Result::Success, 5);
  EXPECT_FALSE(db.setRequestPriority(first, 9));
  EXPECT_FALSE(db.setRequestPriority(424242, 9));
}

TEST_F(Requests, PagesOfThePendingQueueTogetherAreTheWholeQueueInOrder) {
  // Ties on priority and submission time (one buildset's requests) are
  // ordered by id; a raised priority moves a request to an earlier page.
  for (int i = 0; i < 7; ++i) submit({"a", "b", "c"});
  const auto raised = submit({"a"}).at("a");
  ASSERT_TRUE(db.setRequestPriority(raised, 3));
  const auto claimed = submit({"b"}).at("b");
  ASSERT_TRUE(db.claimRequest(claimed, master, 1));
  const auto whole = db.pendingRequests();
  ASSERT_EQ(whole.size(), 22u);
  EXPECT_EQ(whole.front().id, raised);
  for (std::int64_t limit : {1, 4, 21, 22, 50}) {
    std::vector<std::int64_t> paged;
    auto page = db.pendingRequestsPage(nullptr, limit);
    while (!page.empty()) {
      EXPECT_LE(page.size(), static_cast<std::size_t>(limit));
      for (const auto& r : page) paged.push_back(r.id);
      const BuildRequestRecord last = page.back();
      page = db.pendingRequestsPage(&last, limit);
    }
    std::vector<std::int64_t> ids;
    for (const auto& r : whole) ids.push_back(r.id);
    EXPECT_EQ(paged, ids) << "pages of " << limit;
  }
}

TEST_F(Requests, CollapseSkipsOlderCompatiblePendingRequests) {
  const auto old1 = submit({"a", "b"});
  const auto otherBranch = submit({"a"}, "dev");
  const auto otherProject = submit({"a"}, "main", 0, "web");
  const auto claimed = submit({"a"});
  ASSERT_TRUE(db.claimRequest(claimed.at("a"), master, 1));
  const auto triggered = submit({"a"}, "main", 77);
  const auto fresh = submit({"a"});

  const auto collapsed = db.collapseRequests(fresh.at("a"), 3000);
  ASSERT_EQ(collapsed.size(), 1u);
  EXPECT_EQ(collapsed[0].requestId, old1.at("a"));
  EXPECT_FALSE(collapsed[0].completion.has_value());  // b is still open
  const auto skipped = db.getRequest(old1.at("a"));
  EXPECT_TRUE(skipped->complete);
  EXPECT_EQ(skipped->result, Result::Skipped);
  EXPECT_EQ(skipped->replacedBy, fresh.at("a"));
  EXPECT_EQ(skipped->completeText, "collapsed into request " + std::to_string(fresh.at("a")));
  // Different branch/project, claimed, triggered and other-builder requests stay.
  for (auto id : {otherBranch.at("a"), otherProject.at("a"), claimed.at("a"),
                  triggered.at("a"), old1.at("b"), fresh.at("a")})
    EXPECT_FALSE(db.getRequest(id)->complete) << id;
}

TEST_F(Requests, CollapsingTheLastRequestCompletesItsBuildsetSkipped) {
  const auto old = submit({"a"});
  const auto fresh = submit({"a"});
  const auto collapsed = db.collapseRequests(fresh.at("a"), 3000);
  ASSERT_EQ(collapsed.size(), 1u);
  ASSERT_TRUE(collapsed[0].completion.has_value());
  EXPECT_EQ(collapsed[0].completion->result, Result::Skipped);
  const auto bs = db.getBuildset(db.getRequest(old.at("a"))->buildsetId);
  EXPECT_TRUE(bs->complete);
  // A triggered request never collapses older ones.
  const auto child = submit({"a"}, "main", 5);
  EXPECT_TRUE(db.collapseRequests(child.at("a"), 3001).empty());
  EXPECT_FALSE(db.getRequest(fresh.at("a"))->complete);
}

TEST_F(Requests, ChildBuildsetsAreFoundByParentBuild) {
  const auto parentReq = submit({"p"}).at("p");
  const auto build = db.addBuild(master, parentReq, "p", "s", 1, Json::object());
  submit({"c1"}, "main", build.id);
  submit({"c2"}, "main", build.id);
  submit({"c3"});
  const auto children = db.childBuildsets(build.id);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].parentBuildId, build.id);
  EXPECT_LT(children[0].id, children[1].id);
  EXPECT_TRUE(db.childBuildsets(build.id + 100).empty());
}

}  // namespace
}  // namespace bb::db
