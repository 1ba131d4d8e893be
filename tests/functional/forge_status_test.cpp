// Commit status to GitHub, GitLab and Gitea, and the generic HTTP push,
// against a local HTTP server that records what it gets
// (http_recorder.py on 127.0.0.1: no forge can run here): a real master
// and slave build commits of a real git repository, and each forge gets
// the paths, token header and JSON bodies its API documents, for a
// passing and a failing build; the push's HMAC signature verifies; a
// server down for a while gets every status afterwards, in order; a 4xx
// answer is not retried; a config without its token secret, or with a
// bad URL, is refused by checkconfig with a clear error.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <thread>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"
#include "tests/functional/http_recorder.hpp"

namespace bb::test {
namespace {

const std::string kGhToken = "ghp-test-token-4711", kGlToken = "glpat-test-token-0815",
                  kGtToken = "gitea-test-token-1234", kHookKey = "hook-signing-key-42";

std::string hmacHex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  std::string out;
  const char* hex = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

int forgeStatusFinishedBuilds(const MasterProcess& m) {
  return std::stoi(sqlite(m.dbPath(), "SELECT count(*) FROM builds WHERE finished = 1")[0][0]);
}

// The requests whose path starts with `prefix`, in arrival order.
std::vector<Json> under(const std::vector<Json>& all, const std::string& prefix) {
  std::vector<Json> out;
  for (const auto& r : all)
    if (r["path"].get<std::string>().rfind(prefix, 0) == 0) out.push_back(r);
  return out;
}

std::string hdr(const Json& r, const std::string& name) {
  auto it = r["headers"].find(name);
  return it == r["headers"].end() ? "<none>" : it->get<std::string>();
}

struct ForgeStatusEnv {
  TempDir tmp{"bb-forge"};
  std::string v = makeVerifier("pw");
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};
  HttpRecorder http{freePort(), tmp.sub("http")};
  GitRepo repo{tmp.sub("alice/app.git")};
  int web = freePort();

  std::string yaml(const std::string& reporters) {
    return "master: {name: ft, slave_port: " + std::to_string(master.port()) +
           ", web_port: " + std::to_string(web) + ", url: \"http://ci.example.org/\"}\n"
           "secrets:\n"
           "  gh_token: {file: gh.secret}\n"
           "  gl_token: {file: gl.secret}\n"
           "  gt_token: {file: gt.secret}\n"
           "  hook_key: {file: hook.secret}\n"
           "slaves: [{name: s1, password: " + q(v) + "}]\n"
           "users: [{name: alice, password: " + q(v) + ", may: [sendchange, force, status]}]\n"
           "builders:\n"
           "  - name: b1\n"
           "    slaves: [s1]\n"
           "    steps:\n"
           "      - {git: {repo: " + q(repo.path()) + "}}\n"
           "      - {shell: {name: verdict, command: \"test \\\"$(cat verdict.txt)\\\" = pass\"}}\n"
           "schedulers: [{name: main, type: single_branch, branch: main, builders: [b1]}]\n"
           "reporters:\n" + reporters;
  }
  void start(const std::string& reporters) {
    repo.init();
    master.create();
    writeFile(master.dir() + "/gh.secret", kGhToken + "\n");
    writeFile(master.dir() + "/gl.secret", kGlToken + "\n");
    writeFile(master.dir() + "/gt.secret", kGtToken + "\n");
    writeFile(master.dir() + "/hook.secret", kHookKey + "\n");
    master.writeConfig(yaml(reporters));
    master.setAuth("alice", "pw");
    master.start();
    slave.create();
    slave.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  }
  // Commits verdict.txt = `verdict`, tells the master, waits for build `n`.
  std::string build(const std::string& verdict, int n) {
    const std::string sha = repo.commit("verdict.txt", verdict + "\n", "verdict " + verdict);
    auto r = master.client({"sendchange", "--who", "dev", "--repository", repo.path(), "--branch", "main",
                            "--revision", sha, "verdict.txt"});
    EXPECT_EQ(r.rc, 0) << r.out << r.err;
    EXPECT_TRUE(waitFor([&] { return forgeStatusFinishedBuilds(master) >= n; }, 60s)) << master.log();
    return sha;
  }
  std::vector<Json> waitRequests(const std::string& prefix, std::size_t n) {
    EXPECT_TRUE(waitFor([&] { return under(http.requests(), prefix).size() >= n; }, 30s))
        << under(http.requests(), prefix).size() << " requests under " << prefix << "\n" << master.log();
    return under(http.requests(), prefix);
  }
  Json reporterStatus(const std::string& name) {
    auto st = master.client({"status", "--json"});
    EXPECT_EQ(st.rc, 0) << st.err;
    const Json all = Json::parse(st.out);
    for (const auto& r : all["reporters"])
      if (r["name"] == name) return r;
    ADD_FAILURE() << "no reporter " << name << " in " << st.out;
    return Json::object();
  }
};

std::string reporter(const std::string& body) {
  return "  - {" + body + ", retry: {initial: 1, max: 2}}\n";
}

TEST(ForgeStatus, EachForgeGetsWhatItsApiExpectsForAPassingAndAFailingBuild) {
  ForgeStatusEnv e;
  e.http.start();
  const std::string u = e.http.url();
  e.start(reporter("name: gh, type: github_status, base_url: " + q(u + "/gh") + ", token: \"%(secret:gh_token)s\"") +
          reporter("name: gl, type: gitlab_status, base_url: " + q(u + "/gl/") +
                   ", token: \"%(secret:gl_token)s\", context: \"{master}/{builder}\"") +
          reporter("name: gt, type: gitea_status, base_url: " + q(u + "/gt") +
                   ", token: \"%(secret:gt_token)s\", repository: org/app-mirror") +
          reporter("name: hook, type: http_push, url: " + q(u + "/hook") +
                   ", events: [build.finished, buildset.completed], secret: \"%(secret:hook_key)s\""));
  const std::string pass = e.build("pass", 1);
  const std::string fail = e.build("fail", 2);
  ASSERT_EQ(sqlite(e.master.dbPath(), "SELECT result FROM builds ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"0"}, {"2"}}));

  // GitHub: POST /repos/OWNER/REPO/statuses/SHA, Bearer token, API headers;
  // owner/repo from the repository's path (.../alice/app.git).
  const auto gh = e.waitRequests("/gh/", 6);
  ASSERT_EQ(gh.size(), 6u);
  const std::vector<std::pair<std::string, std::string>> ghWant{
      {pass, "pending"}, {pass, "pending"}, {pass, "success"},
      {fail, "pending"}, {fail, "pending"}, {fail, "failure"}};
  for (std::size_t i = 0; i < gh.size(); ++i) {
    SCOPED_TRACE("github request " + std::to_string(i));
    EXPECT_EQ(gh[i]["path"], "/gh/repos/alice/app/statuses/" + ghWant[i].first);
    EXPECT_EQ(hdr(gh[i], "Authorization"), "Bearer " + kGhToken);
    EXPECT_EQ(hdr(gh[i], "Accept"), "application/vnd.github+json");
    EXPECT_EQ(hdr(gh[i], "X-GitHub-Api-Version"), "2022-11-28");
    EXPECT_EQ(hdr(gh[i], "Content-Type"), "application/json");
    EXPECT_EQ(gh[i]["json"]["state"], ghWant[i].second);
    EXPECT_EQ(gh[i]["json"]["context"], "buildbot/b1");
    EXPECT_EQ(gh[i]["json"].size(), 4u) << gh[i]["json"].dump();
  }
  EXPECT_EQ(gh[0]["json"]["description"], "Build requested");
  EXPECT_EQ(gh[0]["json"]["target_url"], "http://ci.example.org/builders/b1");
  EXPECT_EQ(gh[1]["json"]["description"], "Build #1 running on s1");
  EXPECT_EQ(gh[1]["json"]["target_url"], "http://ci.example.org/builders/b1/builds/1");
  EXPECT_EQ(gh[2]["json"]["description"].get<std::string>().rfind("Build #1: success", 0), 0u);
  EXPECT_EQ(gh[5]["json"]["description"].get<std::string>().rfind("Build #2: failure", 0), 0u);
  EXPECT_EQ(gh[5]["json"]["target_url"], "http://ci.example.org/builders/b1/builds/2");

  // GitLab: /api/v4/projects/URL-ENCODED-PATH/statuses/SHA, PRIVATE-TOKEN,
  // name and ref, states pending/running/success|failed.
  const auto gl = e.waitRequests("/gl/", 6);
  ASSERT_EQ(gl.size(), 6u);
  const std::vector<std::string> glStates{"pending", "running", "success", "pending", "running", "failed"};
  for (std::size_t i = 0; i < gl.size(); ++i) {
    SCOPED_TRACE("gitlab request " + std::to_string(i));
    EXPECT_EQ(gl[i]["path"], "/gl/api/v4/projects/alice%2Fapp/statuses/" + (i < 3 ? pass : fail));
    EXPECT_EQ(hdr(gl[i], "PRIVATE-TOKEN"), kGlToken);
    EXPECT_EQ(hdr(gl[i], "Authorization"), "<none>");
    EXPECT_EQ(gl[i]["json"]["state"], glStates[i]);
    EXPECT_EQ(gl[i]["json"]["name"], "ft/b1");
    EXPECT_EQ(gl[i]["json"]["ref"], "main");
    EXPECT_FALSE(gl[i]["json"].contains("context"));
  }

  // Gitea: /api/v1/repos/OWNER/REPO/statuses/SHA with the configured
  // repository, `Authorization: token`.
  const auto gt = e.waitRequests("/gt/", 6);
  ASSERT_EQ(gt.size(), 6u);
  const std::vector<std::string> gtStates{"pending", "pending", "success", "pending", "pending", "failure"};
  for (std::size_t i = 0; i < gt.size(); ++i) {
    SCOPED_TRACE("gitea request " + std::to_string(i));
    EXPECT_EQ(gt[i]["path"], "/gt/api/v1/repos/org/app-mirror/statuses/" + (i < 3 ? pass : fail));
    EXPECT_EQ(hdr(gt[i], "Authorization"), "token " + kGtToken);
    EXPECT_EQ(gt[i]["json"]["state"], gtStates[i]);
    EXPECT_EQ(gt[i]["json"]["context"], "buildbot/b1");
  }

  // The push: the chosen events, in order, each signed.
  const auto hook = e.waitRequests("/hook", 4);
  ASSERT_EQ(hook.size(), 4u);
  std::vector<std::string> types;
  for (const auto& h : hook) {
    types.push_back(hdr(h, "X-Buildbot-Event"));
    EXPECT_EQ(hdr(h, "X-Buildbot-Signature"), "sha256=" + hmacHex(kHookKey, h["body"].get<std::string>()));
    EXPECT_NE(hdr(h, "X-Buildbot-Signature"), "sha256=" + hmacHex("wrong-key", h["body"].get<std::string>()));
    EXPECT_EQ(h["json"]["master"], "ft");
    EXPECT_EQ(h["json"]["event"]["type"], hdr(h, "X-Buildbot-Event"));
    EXPECT_EQ(hdr(h, "X-Buildbot-Delivery"), "ft-" + h["json"]["event"]["seq"].dump());
  }
  // A build's end and its BuildSet's completion are one transaction; the
  // bus publishes them in the order they were written.
  EXPECT_EQ(types, (std::vector<std::string>{"build.finished", "buildset.completed", "build.finished",
                                             "buildset.completed"}));
  EXPECT_EQ(hook[0]["json"]["event"]["data"]["result"], "success");
  EXPECT_EQ(hook[2]["json"]["event"]["data"]["result"], "failure");

  // The counters; and the tokens never reach the master's log.
  EXPECT_TRUE(waitFor([&] { return e.reporterStatus("gh").value("sent", 0) == 6; }, 10s));
  const Json gs = e.reporterStatus("gh");
  EXPECT_EQ(gs["type"], "github_status");
  EXPECT_EQ(gs["queued"], 0);
  EXPECT_EQ(gs["failed"], 0);
  EXPECT_EQ(gs["dropped"], 0);
  // The same counters in /metrics, for every reporter.
  const HttpReply metrics = httpGet(e.web, "/metrics");
  EXPECT_NE(metrics.body.find("buildmaster_reporter_deliveries_total{reporter=\"gh\",type=\"github_status\","
                              "outcome=\"sent\"} 6"),
            std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("buildmaster_reporter_queued{reporter=\"hook\",type=\"http_push\"} 0"),
            std::string::npos) << metrics.body;
  const std::string log = e.master.log();
  for (const auto& t : {kGhToken, kGlToken, kGtToken, kHookKey}) EXPECT_EQ(log.find(t), std::string::npos) << t;
}

TEST(ForgeStatus, AServerDownForAWhileGetsEveryStatusAfterwardsInOrder) {
  ForgeStatusEnv e;
  const std::string u = e.http.url();
  e.start(reporter("name: gh, type: github_status, base_url: " + q(u) + ", token: \"%(secret:gh_token)s\"") +
          reporter("name: hook, type: http_push, url: " + q(u + "/hook") +
                   ", events: [build], secret: \"%(secret:hook_key)s\""));
  // Nothing listens yet: two builds end while the server is down.
  const std::string a = e.build("pass", 1);
  const std::string b = e.build("fail", 2);
  ASSERT_TRUE(e.master.waitForLog("not delivered")) << e.master.log();
  Json down = e.reporterStatus("gh");
  EXPECT_EQ(down["sent"], 0);
  EXPECT_GE(down["queued"].get<int>(), 1);
  EXPECT_GE(down["retries"].get<int>(), 1);
  EXPECT_NE(down["last_error"].get<std::string>().find("127.0.0.1"), std::string::npos) << down.dump();
  auto text = e.master.client({"status"});
  EXPECT_NE(text.out.find("Reporters:"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("github_status"), std::string::npos) << text.out;

  e.http.start();
  const auto gh = e.waitRequests("/repos/", 6);
  ASSERT_EQ(gh.size(), 6u);
  const std::vector<std::pair<std::string, std::string>> want{
      {a, "pending"}, {a, "pending"}, {a, "success"}, {b, "pending"}, {b, "pending"}, {b, "failure"}};
  for (std::size_t i = 0; i < gh.size(); ++i) {
    EXPECT_EQ(gh[i]["path"], "/repos/alice/app/statuses/" + want[i].first) << i;
    EXPECT_EQ(gh[i]["json"]["state"], want[i].second) << i;
  }
  EXPECT_EQ(gh[1]["json"]["description"], "Build #1 running on s1");
  const auto hook = e.waitRequests("/hook", 4);
  ASSERT_EQ(hook.size(), 4u);
  std::vector<std::string> seen;
  for (const auto& h : hook)
    seen.push_back(hdr(h, "X-Buildbot-Event") + " " + h["json"]["event"]["data"].value("result", ""));
  EXPECT_EQ(seen, (std::vector<std::string>{"build.started ", "build.finished success", "build.started ",
                                            "build.finished failure"}));
  EXPECT_TRUE(waitFor([&] { return e.reporterStatus("gh").value("sent", 0) == 6; }, 10s));
  EXPECT_EQ(e.reporterStatus("gh")["queued"], 0);
  EXPECT_EQ(e.reporterStatus("gh")["dropped"], 0);
}

TEST(ForgeStatus, ARefusalIsNotRetriedAndIsLoggedClearly) {
  ForgeStatusEnv e;
  e.http.start(401);
  e.start(reporter("name: gh, type: github_status, base_url: " + q(e.http.url()) +
                   ", token: \"%(secret:gh_token)s\""));
  e.build("pass", 1);
  const auto gh = e.waitRequests("/repos/", 3);
  ASSERT_TRUE(e.master.waitForLog("dropped after 1 tries")) << e.master.log();
  std::this_thread::sleep_for(2500ms);  // longer than the retry back-off: nothing comes again
  EXPECT_EQ(under(e.http.requests(), "/repos/").size(), 3u);
  const std::string log = e.master.log();
  EXPECT_NE(log.find("HTTP 401"), std::string::npos) << log;
  EXPECT_NE(log.find("not retried"), std::string::npos) << log;
  EXPECT_NE(log.find("Bad credentials"), std::string::npos) << log;
  const Json st = e.reporterStatus("gh");
  EXPECT_EQ(st["failed"], 3);
  EXPECT_EQ(st["retries"], 0);
  EXPECT_EQ(st["sent"], 0);
  EXPECT_NE(st["last_error"].get<std::string>().find("HTTP 401"), std::string::npos) << st.dump();
}

TEST(ForgeStatus, AMissingTokenSecretOrABadUrlIsAClearConfigError) {
  ForgeStatusEnv e;
  e.repo.init();
  e.master.create();
  writeFile(e.master.dir() + "/gh.secret", kGhToken);
  writeFile(e.master.dir() + "/gl.secret", kGlToken);
  writeFile(e.master.dir() + "/gt.secret", kGtToken);
  writeFile(e.master.dir() + "/hook.secret", kHookKey);
  e.master.writeConfig(e.yaml(reporter("name: gh, type: github_status, token: \"%(secret:no_such_token)s\"")));
  auto r = e.master.admin({"checkconfig", e.master.dir()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE((r.out + r.err).find("no_such_token"), std::string::npos) << r.out << r.err;

  e.master.writeConfig(e.yaml(reporter("name: gl, type: gitlab_status, base_url: \"gitlab.example.org\", "
                                       "token: \"%(secret:gl_token)s\"")));
  r = e.master.admin({"checkconfig", e.master.dir()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE((r.out + r.err).find("base_url 'gitlab.example.org' must start with http:// or https://"),
            std::string::npos) << r.out << r.err;

  e.master.writeConfig(e.yaml(reporter("name: h, type: http_push, url: \"http://127.0.0.1:80/x\", "
                                       "events: [build.finished], secret: " + kHookKey)));
  r = e.master.admin({"checkconfig", e.master.dir()});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE((r.out + r.err).find("secret must be exactly"), std::string::npos) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find(kHookKey), std::string::npos) << "the value is not echoed";
}

}  // namespace
}  // namespace bb::test
