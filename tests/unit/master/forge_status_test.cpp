// Commit status in each forge's words: the state for every phase and
// result, owner/repo from repository URLs, and the request (URL, token
// header, JSON body) as GitHub, GitLab and Gitea document it.
#include <gtest/gtest.h>

#include "common/message.hpp"
#include "master/reporters/forge_status.hpp"
#include "master/reporters/http_post.hpp"

namespace bb {
namespace {

std::string header(const HttpPost& p, const std::string& name) {
  for (const auto& [n, v] : p.headers)
    if (n == name) return v;
  return "<none>";
}

CommitStatus finished(Result r) {
  CommitStatus s;
  s.phase = BuildPhase::Finished;
  s.result = r;
  return s;
}

TEST(ForgeStatusRequest, StatesPerForge) {
  CommitStatus req, run, cancel;
  run.phase = BuildPhase::Running;
  cancel.phase = BuildPhase::Cancelled;
  EXPECT_EQ(forgeState(Forge::GitHub, req), "pending");
  EXPECT_EQ(forgeState(Forge::GitLab, req), "pending");
  EXPECT_EQ(forgeState(Forge::Gitea, req), "pending");
  EXPECT_EQ(forgeState(Forge::GitHub, run), "pending");
  EXPECT_EQ(forgeState(Forge::GitLab, run), "running");
  EXPECT_EQ(forgeState(Forge::Gitea, run), "pending");
  EXPECT_EQ(forgeState(Forge::GitLab, cancel), "canceled");
  EXPECT_EQ(forgeState(Forge::GitHub, cancel), "error");
  EXPECT_EQ(forgeState(Forge::GitHub, finished(Result::Success)), "success");
  EXPECT_EQ(forgeState(Forge::GitHub, finished(Result::Failure)), "failure");
  EXPECT_EQ(forgeState(Forge::GitHub, finished(Result::Exception)), "error");
  EXPECT_EQ(forgeState(Forge::GitHub, finished(Result::Warnings)), "success");
  EXPECT_EQ(forgeState(Forge::GitLab, finished(Result::Failure)), "failed");
  EXPECT_EQ(forgeState(Forge::GitLab, finished(Result::Exception)), "failed");
  EXPECT_EQ(forgeState(Forge::GitLab, finished(Result::Cancelled)), "canceled");
  EXPECT_EQ(forgeState(Forge::Gitea, finished(Result::Warnings)), "warning");
  EXPECT_EQ(forgeState(Forge::Gitea, finished(Result::Failure)), "failure");
  EXPECT_EQ(forgeState(Forge::GitHub, finished(Result::Retry)), "pending");
  EXPECT_EQ(forgeState(Forge::GitLab, finished(Result::Retry)), std::nullopt);
}

TEST(ForgeStatusRequest, RepoPathFromRepositoryUrls) {
  EXPECT_EQ(forgeRepoPath(Forge::GitHub, "https://github.com/alice/app.git"), "alice/app");
  EXPECT_EQ(forgeRepoPath(Forge::GitHub, "https://github.com/alice/app"), "alice/app");
  EXPECT_EQ(forgeRepoPath(Forge::GitHub, "git@github.com:alice/app.git"), "alice/app");
  EXPECT_EQ(forgeRepoPath(Forge::Gitea, "ssh://git@gitea.example.org:2222/alice/app.git"), "alice/app");
  EXPECT_EQ(forgeRepoPath(Forge::GitHub, "/srv/git/alice/app.git"), "alice/app");
  EXPECT_EQ(forgeRepoPath(Forge::GitHub, "file:///srv/git/alice/app.git/"), "alice/app");
  EXPECT_EQ(forgeRepoPath(Forge::GitLab, "https://gitlab.com/group/sub/app.git"), "group/sub/app");
  EXPECT_EQ(forgeRepoPath(Forge::GitLab, "git@gitlab.com:group/sub/app.git"), "group/sub/app");
  EXPECT_EQ(forgeRepoPath(Forge::GitLab, "/srv/git/group/sub/app.git"), "sub/app");
  EXPECT_EQ(forgeRepoPath(Forge::GitHub, "https://github.com/app.git"), std::nullopt);
  EXPECT_EQ(forgeRepoPath(Forge::GitHub, ""), std::nullopt);
}

TEST(ForgeStatusRequest, GitHubRequest) {
  CommitStatus s = finished(Result::Failure);
  s.sha = "0123abcd";
  s.branch = "main";
  s.context = "buildbot/b1";
  s.description = "Build #2: failure";
  s.targetUrl = "http://ci.example.org/builders/b1/builds/2";
  const auto p = forgeStatusRequest(Forge::GitHub, "https://api.github.com/", "alice/app", "tok", s, "failure");
  EXPECT_EQ(p.url, "https://api.github.com/repos/alice/app/statuses/0123abcd");
  EXPECT_EQ(header(p, "Authorization"), "Bearer tok");
  EXPECT_EQ(header(p, "Accept"), "application/vnd.github+json");
  EXPECT_EQ(header(p, "X-GitHub-Api-Version"), "2022-11-28");
  EXPECT_EQ(header(p, "Content-Type"), "application/json");
  EXPECT_EQ(Json::parse(p.body), (Json{{"state", "failure"},
                                      {"target_url", "http://ci.example.org/builders/b1/builds/2"},
                                      {"description", "Build #2: failure"},
                                      {"context", "buildbot/b1"}}));
}

TEST(ForgeStatusRequest, GitLabRequestEncodesTheProjectPathAndSendsRefAndName) {
  CommitStatus s;
  s.phase = BuildPhase::Running;
  s.sha = "beef";
  s.branch = "feature/x";
  s.context = "ci";
  s.description = "running";
  s.targetUrl = "u";
  const auto p = forgeStatusRequest(Forge::GitLab, "https://gitlab.example.org", "group/sub/app", "glpat", s, "running");
  EXPECT_EQ(p.url, "https://gitlab.example.org/api/v4/projects/group%2Fsub%2Fapp/statuses/beef");
  EXPECT_EQ(header(p, "PRIVATE-TOKEN"), "glpat");
  EXPECT_EQ(header(p, "Authorization"), "<none>");
  EXPECT_EQ(Json::parse(p.body),
            (Json{{"state", "running"}, {"target_url", "u"}, {"description", "running"}, {"name", "ci"},
                  {"ref", "feature/x"}}));
  s.branch.clear();
  EXPECT_FALSE(Json::parse(forgeStatusRequest(Forge::GitLab, "h", "1234", "t", s, "running").body).contains("ref"));
  EXPECT_EQ(forgeStatusRequest(Forge::GitLab, "http://h", "1234", "t", s, "running").url,
            "http://h/api/v4/projects/1234/statuses/beef");
}

TEST(ForgeStatusRequest, GiteaRequest) {
  CommitStatus s;
  s.sha = "cafe";
  s.context = "buildbot/b1";
  s.description = "Build requested";
  s.targetUrl = "t";
  const auto p = forgeStatusRequest(Forge::Gitea, "http://127.0.0.1:3000", "alice/app", "gtok", s, "pending");
  EXPECT_EQ(p.url, "http://127.0.0.1:3000/api/v1/repos/alice/app/statuses/cafe");
  EXPECT_EQ(header(p, "Authorization"), "token gtok");
  EXPECT_EQ(Json::parse(p.body)["context"], "buildbot/b1");
  EXPECT_EQ(Json::parse(p.body)["state"], "pending");
}

TEST(ForgeStatusRequest, LongDescriptionsAreCutOnACharacterBoundary) {
  CommitStatus s;
  s.sha = "a";
  s.description = std::string(137, 'x') + "\xc3\xa9" + std::string(50, 'y');
  const auto d = Json::parse(forgeStatusRequest(Forge::GitHub, "h", "a/b", "t", s, "pending").body)["description"]
                     .get<std::string>();
  EXPECT_LE(d.size(), 140u);
  EXPECT_EQ(d, std::string(137, 'x') + "...");
}

TEST(HttpPost, StatusClassification) {
  EXPECT_EQ(classifyHttpStatus(200), DeliveryResult::Kind::Delivered);
  EXPECT_EQ(classifyHttpStatus(201), DeliveryResult::Kind::Delivered);
  EXPECT_EQ(classifyHttpStatus(429), DeliveryResult::Kind::Temporary);
  EXPECT_EQ(classifyHttpStatus(503), DeliveryResult::Kind::Temporary);
  EXPECT_EQ(classifyHttpStatus(408), DeliveryResult::Kind::Temporary);
  EXPECT_EQ(classifyHttpStatus(401), DeliveryResult::Kind::Permanent);
  EXPECT_EQ(classifyHttpStatus(404), DeliveryResult::Kind::Permanent);
  EXPECT_EQ(classifyHttpStatus(422), DeliveryResult::Kind::Permanent);
  EXPECT_EQ(classifyHttpStatus(301), DeliveryResult::Kind::Permanent);
}

TEST(HttpPost, NothingListeningIsTemporary) {
  HttpPost p;
  p.url = "http://127.0.0.1:1/x";  // port 1: nothing listens there
  p.body = "{}";
  p.timeout = std::chrono::seconds(5);
  const auto r = postHttp(p);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::Temporary);
  EXPECT_NE(r.error.find("http://127.0.0.1:1/x"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace bb
