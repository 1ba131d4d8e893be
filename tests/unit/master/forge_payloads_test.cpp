// The forges' webhook payloads as changes: samples shaped as GitHub, GitLab
// and Gitea document them (trimmed to the fields read, plus some that are
// not).
#include "master/changes/forge_payloads.hpp"

#include <gtest/gtest.h>

namespace bb {
namespace {

Json githubPush() {
  return Json::parse(R"({
    "ref": "refs/heads/main", "before": "9049f1265b7d61be4a8904a9a27120d2064dab3b",
    "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "deleted": false, "forced": false,
    "repository": {"full_name": "octo/app", "clone_url": "https://github.com/octo/app.git"},
    "pusher": {"name": "octo"},
    "commits": [
      {"id": "1111111111111111111111111111111111111111", "distinct": true,
       "message": "Fix the parser\n", "timestamp": "2015-05-05T19:40:15-04:00",
       "url": "https://github.com/octo/app/commit/1111111",
       "author": {"name": "Mona Lisa", "email": "mona@example.org", "username": "mona"},
       "added": ["new.c"], "removed": ["old.c"], "modified": ["README"]},
      {"id": "2222222222222222222222222222222222222222", "distinct": false,
       "message": "already on another branch", "timestamp": "2015-05-05T19:41:00Z",
       "author": {"name": "Mona Lisa", "email": "mona@example.org"}, "added": [], "removed": [], "modified": []},
      {"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "distinct": true,
       "message": "Second", "timestamp": "2015-05-05T23:45:00.123Z",
       "author": {"name": "Hubot", "email": "hubot@example.org"}, "added": [], "removed": [], "modified": ["a.c"]}
    ]})");
}

TEST(ForgePayloads, GitHubPushIsOneChangePerDistinctCommitInOrder) {
  const ForgeEvent ev = readForgeEvent(Forge::GitHub, "push", githubPush());
  ASSERT_EQ(ev.changes.size(), 2u) << ev.ignored;
  const auto& a = ev.changes[0];
  EXPECT_EQ(a.revision, "1111111111111111111111111111111111111111");
  EXPECT_EQ(a.branch, "main");
  EXPECT_EQ(a.author, "Mona Lisa <mona@example.org>");
  EXPECT_EQ(a.comments, "Fix the parser");
  EXPECT_EQ(a.when, 1430869215);  // 2015-05-05T23:40:15Z
  EXPECT_EQ(a.files, (std::vector<std::string>{"new.c", "README", "old.c"}));
  EXPECT_EQ(a.repository, "https://github.com/octo/app.git");
  EXPECT_EQ(a.project, "octo/app");
  EXPECT_EQ(a.properties["revlink"], "https://github.com/octo/app/commit/1111111");
  EXPECT_EQ(ev.changes[1].revision, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
  EXPECT_EQ(ev.changes[1].when, 1430869500);
}

TEST(ForgePayloads, DeletionsTagsAndEmptyPushes) {
  Json del = githubPush();
  del["deleted"] = true;
  del["after"] = std::string(40, '0');
  EXPECT_TRUE(readForgeEvent(Forge::GitHub, "push", del).changes.empty());
  EXPECT_NE(readForgeEvent(Forge::GitHub, "push", del).ignored.find("deletes"), std::string::npos);
  Json tag = githubPush();
  tag["ref"] = "refs/tags/v1.0";
  EXPECT_EQ(readForgeEvent(Forge::GitHub, "push", tag).changes.at(0).branch, "refs/tags/v1.0");
  Json none = githubPush();
  none["commits"] = Json::array();
  EXPECT_TRUE(readForgeEvent(Forge::GitHub, "push", none).changes.empty());
}

TEST(ForgePayloads, GitHubPullRequestOpenedAndSynchronizeBuildClosedDoesNot) {
  Json pr = Json::parse(R"({
    "action": "synchronize", "number": 42,
    "pull_request": {"number": 42, "title": "Faster parser", "html_url": "https://github.com/octo/app/pull/42",
      "user": {"login": "mona"},
      "head": {"sha": "abcdefabcdefabcdefabcdefabcdefabcdefabcd", "ref": "feature",
               "repo": {"clone_url": "https://github.com/mona/app.git"}},
      "base": {"ref": "main", "sha": "0000000000000000000000000000000000000001",
               "repo": {"clone_url": "https://github.com/octo/app.git"}}},
    "repository": {"full_name": "octo/app"}, "sender": {"login": "mona"}})");
  ForgeEvent ev = readForgeEvent(Forge::GitHub, "pull_request", pr);
  ASSERT_EQ(ev.changes.size(), 1u);
  EXPECT_EQ(ev.changes[0].branch, "refs/pull/42/head");
  EXPECT_EQ(ev.changes[0].revision, "abcdefabcdefabcdefabcdefabcdefabcdefabcd");
  EXPECT_EQ(ev.changes[0].repository, "https://github.com/octo/app.git");
  EXPECT_EQ(ev.changes[0].author, "mona");
  EXPECT_EQ(ev.changes[0].properties["pr_base_branch"], "main");
  EXPECT_EQ(ev.changes[0].properties["pr_number"], 42);
  pr["action"] = "closed";
  ev = readForgeEvent(Forge::GitHub, "pull_request", pr);
  EXPECT_TRUE(ev.changes.empty());
  EXPECT_NE(ev.ignored.find("closed"), std::string::npos);
  EXPECT_TRUE(readForgeEvent(Forge::GitHub, "ping", Json{{"zen", "Keep it logically awesome."}}).ping);
  EXPECT_TRUE(readForgeEvent(Forge::GitHub, "issues", Json::object()).changes.empty());
}

TEST(ForgePayloads, GitLabPushAndMergeRequest) {
  Json push = Json::parse(R"({
    "object_kind": "push", "ref": "refs/heads/dev", "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
    "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    "project": {"path_with_namespace": "group/app", "git_http_url": "https://gitlab.example.org/group/app.git"},
    "commits": [{"id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", "message": "Update Catalan translation",
      "timestamp": "2011-12-12T14:27:31+02:00", "url": "https://gitlab.example.org/group/app/commit/b6568db",
      "author": {"name": "Jordi Mallach", "email": "jordi@example.org"},
      "added": ["CHANGELOG"], "modified": ["app/controller.rb"], "removed": []}]})");
  ForgeEvent ev = readForgeEvent(Forge::GitLab, "Push Hook", push);
  ASSERT_EQ(ev.changes.size(), 1u);
  EXPECT_EQ(ev.changes[0].branch, "dev");
  EXPECT_EQ(ev.changes[0].when, 1323692851);
  EXPECT_EQ(ev.changes[0].project, "group/app");
  EXPECT_EQ(ev.changes[0].repository, "https://gitlab.example.org/group/app.git");

  Json mr = Json::parse(R"({
    "object_kind": "merge_request", "user": {"username": "root"},
    "project": {"path_with_namespace": "group/app"},
    "object_attributes": {"iid": 7, "action": "open", "title": "MS-Viewport", "source_branch": "ms-viewport",
      "target_branch": "master", "url": "https://gitlab.example.org/group/app/-/merge_requests/7",
      "target": {"git_http_url": "https://gitlab.example.org/group/app.git"},
      "last_commit": {"id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "timestamp": "2012-01-03T23:36:29+02:00",
                      "author": {"name": "GitLab dev user", "email": "gitlabdev@example.org"}}}})");
  ev = readForgeEvent(Forge::GitLab, "Merge Request Hook", mr);
  ASSERT_EQ(ev.changes.size(), 1u);
  EXPECT_EQ(ev.changes[0].branch, "refs/merge-requests/7/head");
  EXPECT_EQ(ev.changes[0].revision, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
  EXPECT_EQ(ev.changes[0].properties["pr_head_branch"], "ms-viewport");
  // A title edit is "update" without oldrev: nothing to build.
  mr["object_attributes"]["action"] = "update";
  EXPECT_TRUE(readForgeEvent(Forge::GitLab, "Merge Request Hook", mr).changes.empty());
  mr["object_attributes"]["oldrev"] = "95790bf891e76fee5e1747ab589903a6a1f80f22";
  EXPECT_EQ(readForgeEvent(Forge::GitLab, "Merge Request Hook", mr).changes.size(), 1u);
}

TEST(ForgePayloads, GiteaPushAndPullRequest) {
  Json push = githubPush();
  push.erase("deleted");
  for (auto& c : push["commits"]) c.erase("distinct");
  ForgeEvent ev = readForgeEvent(Forge::Gitea, "push", push);
  EXPECT_EQ(ev.changes.size(), 3u);  // Gitea marks no commit as not distinct
  Json pr = Json::parse(R"({"action": "synchronized", "number": 3,
    "pull_request": {"number": 3, "title": "t", "user": {"login": "u"},
      "head": {"sha": "cccccccccccccccccccccccccccccccccccccccc", "ref": "topic"},
      "base": {"ref": "main", "repo": {"clone_url": "https://gitea.example.org/o/r.git"}}},
    "repository": {"full_name": "o/r"}})");
  ev = readForgeEvent(Forge::Gitea, "pull_request", pr);
  ASSERT_EQ(ev.changes.size(), 1u);
  EXPECT_EQ(ev.changes[0].branch, "refs/pull/3/head");
  EXPECT_EQ(ev.changes[0].project, "o/r");
}

TEST(ForgePayloads, MissingFieldsSayWhich) {
  Json bad = githubPush();
  bad["commits"][0].erase("id");
  try {
    readForgeEvent(Forge::GitHub, "push", bad);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("payload.commits[0].id"), std::string::npos) << e.what();
  }
  EXPECT_THROW(readForgeEvent(Forge::GitHub, "push", Json::array()), std::invalid_argument);
  EXPECT_THROW(readForgeEvent(Forge::GitHub, "push", Json{{"ref", 5}}), std::invalid_argument);
}

}  // namespace
}  // namespace bb
