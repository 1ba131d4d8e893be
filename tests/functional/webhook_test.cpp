// The forge webhooks on the web port, with a real master and slave and
// real HTTP: a signed GitHub push builds; a missing, wrong or stale
// signature, an oversized or non-JSON body and a wrong content type are
// refused with the right code and nothing is stored; a redelivered event is
// stored once, also after a restart; GitLab's token and Gitea's signature.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "common/hmac.hpp"
#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

const char* kGitHubSecret = "gh-webhook-secret-0123456789";
const char* kGitLabToken = "gl-webhook-token-0123456789";
const char* kGiteaSecret = "gitea-webhook-secret-0123456789";

Json push(const std::string& rev, const std::string& ref = "refs/heads/main") {
  return Json{{"ref", ref},
              {"after", rev},
              {"repository", {{"full_name", "octo/app"}, {"clone_url", "https://github.example.org/octo/app.git"}}},
              {"commits",
               {{{"id", rev},
                 {"message", "commit " + rev},
                 {"timestamp", "2026-12-01T10:00:00Z"},
                 {"author", {{"name", "Mona"}, {"email", "mona@example.org"}}},
                 {"added", {"a.c"}},
                 {"modified", Json::array()},
                 {"removed", Json::array()}}}}};
}

class Webhooks : public ::testing::Test {
 protected:
  void SetUp() override {
    master.create();
    std::ofstream(master.dir() + "/gh.secret") << kGitHubSecret;
    std::ofstream(master.dir() + "/gl.secret") << kGitLabToken;
    master.writeConfig(
        "master: {name: hooks, slave_port: " + std::to_string(master.port()) + ", web_port: " + std::to_string(web) +
        ", url: \"http://ci.example.org/\"}\n"
        "secrets:\n  gh: {file: gh.secret}\n  gl: {file: gl.secret}\n"
        "slaves: [{name: s1, password: " + q(makeVerifier("pw")) + "}]\n"
        "change_sources:\n"
        "  - {name: github, type: github_webhook, secret: \"%(secret:gh)s\", max_body: 4096}\n"
        "  - {name: gitlab, type: gitlab_webhook, secret: \"%(secret:gl)s\", branches: [\"dev*\", \"refs/merge-requests/*\"]}\n"
        "  - {name: gitea, type: gitea_webhook, secret: " + q(kGiteaSecret) + ", project: mirror}\n"
        "builders:\n"
        "  - {name: b1, slaves: [s1], steps: [{shell: {name: hello, command: \"echo built %(prop:revision)s\"}}]}\n"
        "schedulers:\n"
        "  - {name: all, type: any_branch, builders: [b1]}\n");
    master.start();
    slave.create();
    slave.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
    ASSERT_TRUE(master.waitForLog("web: serving on")) << master.log();
  }
  HttpReply send(const std::string& hook, const std::string& body, std::map<std::string, std::string> headers) {
    HttpOptions o;
    o.body = body;
    o.headers = std::move(headers);
    if (!o.headers.count("Content-Type")) o.headers["Content-Type"] = "application/json";
    return httpRequest(web, "POST", "/change_hook/" + hook, o);
  }
  HttpReply github(const std::string& body, const std::string& delivery, const std::string& event = "push") {
    return send("github", body,
                {{"X-GitHub-Event", event},
                 {"X-GitHub-Delivery", delivery},
                 {"X-Hub-Signature-256", "sha256=" + hexEncode(hmacSha256(kGitHubSecret, body))}});
  }
  int changes() {
    const HttpReply r = httpGet(web, "/api/v2/changes");
    return r.status == 200 ? Json::parse(r.body)["meta"]["total"].get<int>() : -1;
  }
  int finishedBuilds() {
    const HttpReply r = httpGet(web, "/api/v2/builds?complete=true&field=number");
    return r.status == 200 ? Json::parse(r.body)["meta"]["total"].get<int>() : -1;
  }

  TempDir tmp;
  int web = freePort();
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("s1"), master.port(), "s1", "pw"};
};

TEST_F(Webhooks, GitHubSignedPushBuildsAndBadRequestsAreRefusedWithTheRightCode) {
  const std::string body = push("1111111111111111111111111111111111111111").dump();
  HttpReply r = github(body, "d-1");
  ASSERT_EQ(r.status, 200) << r.body;
  const int id = Json::parse(r.body)["change_ids"][0].get<int>();
  ASSERT_TRUE(waitFor([&] { return finishedBuilds() == 1; }, 30s)) << master.log();
  const Json c = Json::parse(httpGet(web, "/api/v2/changes/" + std::to_string(id)).body)["changes"][0];
  EXPECT_EQ(c["branch"], "main");
  EXPECT_EQ(c["author"], "Mona <mona@example.org>");
  EXPECT_EQ(c["project"], "octo/app");
  EXPECT_EQ(c["category"], "push");
  EXPECT_EQ(c["files"], Json{"a.c"});

  // No signature, a wrong one, a body altered after signing.
  EXPECT_EQ(send("github", body, {{"X-GitHub-Event", "push"}}).status, 401);
  HttpReply wrong = send("github", body, {{"X-GitHub-Event", "push"}, {"X-Hub-Signature-256", "sha256=" + std::string(64, 'a')}});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_NE(wrong.body.find("does not match"), std::string::npos) << wrong.body;
  std::string altered = push("2222222222222222222222222222222222222222").dump();
  EXPECT_EQ(send("github", altered,
                 {{"X-GitHub-Event", "push"}, {"X-Hub-Signature-256", "sha256=" + hexEncode(hmacSha256(kGitHubSecret, body))}})
                .status,
            403);
  // Oversized (max_body 4096), wrong content type, not JSON, no event header.
  EXPECT_EQ(github(std::string(5000, ' ') + body, "d-big").status, 413);
  HttpReply type = send("github", body, {{"Content-Type", "text/plain"}, {"X-GitHub-Event", "push"}});
  EXPECT_EQ(type.status, 415);
  HttpReply notJson = github("{not json", "d-bad");
  EXPECT_EQ(notJson.status, 400);
  EXPECT_NE(notJson.body.find("not JSON"), std::string::npos) << notJson.body;
  EXPECT_EQ(github(Json{{"ref", "refs/heads/main"}, {"commits", {{{"message", "no id"}}}}}.dump(), "d-noid").status, 400);
  EXPECT_EQ(send("github", body, {{"X-Hub-Signature-256", "sha256=" + hexEncode(hmacSha256(kGitHubSecret, body))}}).status,
            400);
  // Ping, and an unknown hook name.
  HttpReply pong = github(Json{{"zen", "hi"}, {"hook_id", 1}}.dump(), "d-ping", "ping");
  EXPECT_EQ(pong.status, 200);
  EXPECT_EQ(Json::parse(pong.body)["pong"], true);
  EXPECT_EQ(send("nosuch", body, {}).status, 404);
  // The refusals stored nothing; the master still builds.
  EXPECT_EQ(changes(), 1);
  ASSERT_EQ(github(push("3333333333333333333333333333333333333333").dump(), "d-3").status, 200);
  ASSERT_TRUE(waitFor([&] { return finishedBuilds() == 2; }, 30s)) << master.log();
  EXPECT_TRUE(master.waitForLog("refused a request from")) << master.log();
}

TEST_F(Webhooks, ARedeliveredEventIsStoredOnceAlsoAfterARestart) {
  const std::string body = push("4444444444444444444444444444444444444444").dump();
  ASSERT_EQ(github(body, "delivery-42").status, 200);
  HttpReply again = github(body, "delivery-42");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Json::parse(again.body)["duplicate"], true) << again.body;
  EXPECT_EQ(changes(), 1);
  ASSERT_EQ(master.stop(), 0);
  master.start();
  // The log holds the first run's line too: wait for the second one (the
  // slave port, which start() waits for, opens just before the web port).
  auto served = [&] {
    const std::string log = readFile(master.dir() + "/buildmaster.log");
    std::size_t n = 0;
    for (auto at = log.find("web: serving on"); at != std::string::npos; at = log.find("web: serving on", at + 1)) ++n;
    return n;
  };
  ASSERT_TRUE(waitFor([&] { return served() >= 2; }, 30s)) << master.log();
  again = github(body, "delivery-42");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Json::parse(again.body)["duplicate"], true) << again.body;
  EXPECT_EQ(changes(), 1);
  // A form-encoded delivery (GitHub's other content type), signed over the raw form body.
  std::string encoded;
  for (unsigned char ch : push("5555555555555555555555555555555555555555").dump()) {
    if (std::isalnum(ch)) encoded += static_cast<char>(ch);
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      encoded += buf;
    }
  }
  const std::string form = "payload=" + encoded;
  HttpReply f = send("github", form,
                     {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"X-GitHub-Event", "push"},
                      {"X-GitHub-Delivery", "delivery-43"},
                      {"X-Hub-Signature-256", "sha256=" + hexEncode(hmacSha256(kGitHubSecret, form))}});
  EXPECT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(changes(), 2);
  // Many deliveries later (more than any fixed window of recent ids would
  // hold), the first is still known.
  for (int i = 0; i < 1100; ++i) {
    char rev[41];
    std::snprintf(rev, sizeof rev, "%040d", 100000 + i);
    ASSERT_EQ(github(push(rev).dump(), "many-" + std::to_string(i)).status, 200);
  }
  again = github(body, "delivery-42");
  EXPECT_EQ(Json::parse(again.body)["duplicate"], true) << again.body;
  EXPECT_EQ(changes(), 1102);
}

TEST_F(Webhooks, GitLabTokenAndBranchesAndGiteaSignature) {
  const Json mr = Json{{"object_kind", "merge_request"},
                       {"project", {{"path_with_namespace", "group/app"}}},
                       {"object_attributes",
                        {{"iid", 7},
                         {"action", "open"},
                         {"title", "T"},
                         {"source_branch", "topic"},
                         {"target_branch", "main"},
                         {"target", {{"git_http_url", "https://gitlab.example.org/group/app.git"}}},
                         {"last_commit",
                          {{"id", "6666666666666666666666666666666666666666"},
                           {"author", {{"name", "Dev"}, {"email", "dev@example.org"}}}}}}}};
  const std::string body = mr.dump();
  EXPECT_EQ(send("gitlab", body, {{"X-Gitlab-Event", "Merge Request Hook"}}).status, 401);
  EXPECT_EQ(send("gitlab", body, {{"X-Gitlab-Event", "Merge Request Hook"}, {"X-Gitlab-Token", "wrong"}}).status, 403);
  HttpReply ok = send("gitlab", body,
                      {{"X-Gitlab-Event", "Merge Request Hook"}, {"X-Gitlab-Token", kGitLabToken},
                       {"X-Gitlab-Event-UUID", "u-1"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  const int id = Json::parse(ok.body)["change_ids"][0].get<int>();
  const Json c = Json::parse(httpGet(web, "/api/v2/changes/" + std::to_string(id)).body)["changes"][0];
  EXPECT_EQ(c["branch"], "refs/merge-requests/7/head");
  EXPECT_EQ(c["revision"], "6666666666666666666666666666666666666666");
  // A push to a branch the hook does not watch is answered, not stored.
  Json glPush = push("7777777777777777777777777777777777777777", "refs/heads/main");
  glPush["project"] = {{"path_with_namespace", "group/app"}, {"git_http_url", "https://gitlab.example.org/group/app.git"}};
  HttpReply ignored = send("gitlab", glPush.dump(), {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", kGitLabToken}});
  ASSERT_EQ(ignored.status, 200);
  EXPECT_NE(Json::parse(ignored.body)["ignored"].get<std::string>().find("not among"), std::string::npos) << ignored.body;
  EXPECT_EQ(changes(), 1);

  const std::string gitea = push("8888888888888888888888888888888888888888").dump();
  EXPECT_EQ(send("gitea", gitea, {{"X-Gitea-Event", "push"}, {"X-Gitea-Signature", std::string(64, '0')}}).status, 403);
  HttpReply g = send("gitea", gitea,
                     {{"X-Gitea-Event", "push"},
                      {"X-Gitea-Delivery", "g-1"},
                      {"X-Gitea-Signature", hexEncode(hmacSha256(kGiteaSecret, gitea))}});
  ASSERT_EQ(g.status, 200) << g.body;
  const int gid = Json::parse(g.body)["change_ids"][0].get<int>();
  EXPECT_EQ(Json::parse(httpGet(web, "/api/v2/changes/" + std::to_string(gid)).body)["changes"][0]["project"], "mirror");
  ASSERT_TRUE(waitFor([&] { return finishedBuilds() == 2; }, 30s)) << master.log();
}

}  // namespace
}  // namespace bb::test
