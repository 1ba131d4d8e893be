// Named URLs on steps and builds with a real master and slave: one from
// the step's config (`urls:`, a property rendered), others added by the
// running command (`##buildbot-url NAME URL` lines), read back over REST.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

std::string urlsQ(const std::string& s) { return Json(s).dump(); }

Json url(const std::string& name, const std::string& u) { return Json{{"name", name}, {"url", u}}; }

TEST(WebUrls, ConfigAndCommandUrlsAreStoredAndServed) {
  TempDir tmp;
  const std::string v = makeVerifier("pw");
  const int web = freePort();
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("s1"), master.port(), "s1", "pw"};
  master.create();
  const std::string command =
      "echo compiling; echo '##buildbot-url Coverage report https://cov.example.org/%(prop:revision)s/'; "
      "echo '##buildbot-url no-url-here' >&2; echo '##buildbot-url evil javascript:alert(1)'; echo done";
  master.writeConfig(
      "master: {name: urls, slave_port: " + std::to_string(master.port()) + ", web_port: " +
      std::to_string(web) + ", url: \"http://ci.example.org/\"}\n"
      "slaves: [{name: s1, password: " + urlsQ(v) + "}]\n"
      "users: [{name: alice, password: " + urlsQ(v) + ", may: [sendchange, status]}]\n"
      "builders:\n"
      "  - name: b1\n    slaves: [s1]\n    steps:\n"
      "      - {shell: {name: compile, command: \"true\"}}\n"
      "      - shell:\n          name: test\n          command: " + urlsQ(command) + "\n"
      "          urls: {results: \"https://ci.example.org/results/%(prop:revision)s?b=%(prop:buildername)s\"}\n"
      "schedulers: [{name: all, type: single_branch, branch: main, builders: [b1]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("web: serving on")) << master.log();
  auto r = master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "abc123"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] {
    const HttpReply b = httpGet(web, "/api/v2/builds?complete=true");
    return b.status == 200 && Json::parse(b.body)["meta"]["total"] == 1;
  }, 30s)) << master.log();

  const Json expected = Json::array({url("results", "https://ci.example.org/results/abc123?b=b1"),
                                     url("Coverage report", "https://cov.example.org/abc123/"),
                                     url("evil", "javascript:alert(1)")});
  const HttpReply steps = httpGet(web, "/api/v2/builds/1/steps");
  ASSERT_EQ(steps.status, 200) << steps.body;
  const Json s = Json::parse(steps.body)["steps"];
  ASSERT_EQ(s.size(), 2u) << steps.body;
  EXPECT_EQ(s[0]["urls"], Json::array()) << "a step without URLs has an empty list";
  EXPECT_EQ(s[1]["urls"], expected) << steps.body;
  const HttpReply one = httpGet(web, "/api/v2/steps/" + std::to_string(s[1]["stepid"].get<int>()));
  EXPECT_EQ(Json::parse(one.body)["steps"][0]["urls"], expected) << one.body;
  // A build's URLs are its steps' URLs.
  const HttpReply build = httpGet(web, "/api/v2/builders/b1/builds/1");
  EXPECT_EQ(Json::parse(build.body)["builds"][0]["urls"], expected) << build.body;
  EXPECT_EQ(Json::parse(httpGet(web, "/api/v2/builds/1").body)["builds"][0]["urls"], expected);
  EXPECT_EQ(Json::parse(httpGet(web, "/api/v2/builds/1/steps?field=urls&number=2").body)["steps"][0]["urls"],
            expected);
  // The build succeeded; the refused marker line says why in the log.
  EXPECT_EQ(Json::parse(build.body)["builds"][0]["results"], 0) << build.body;
  auto log = master.client({"status", "--builder", "b1", "--build", "1", "--logs"});
  ASSERT_EQ(log.rc, 0) << log.describe();
  EXPECT_NE(log.out.find("needs a name and a URL"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("##buildbot-url Coverage report"), std::string::npos) << "the line stays in the log";
}

TEST(WebUrls, AConfigUrlThatDoesNotRenderEndsTheStepWithTheReason) {
  TempDir tmp;
  const std::string v = makeVerifier("pw");
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("s1"), master.port(), "s1", "pw"};
  master.create();
  master.writeConfig(
      "master: {name: urls, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + urlsQ(v) + "}]\n"
      "users: [{name: alice, password: " + urlsQ(v) + ", may: [sendchange, force, status]}]\n"
      "builders: [{name: b1, slaves: [s1], steps: [{shell: {name: test, command: \"echo hi\","
      " urls: {r: \"https://x/%(prop:nosuch)s\"}}}]}]\n"
      "schedulers: [{name: force, type: force, builders: [b1]}]\n");
  master.setAuth("alice", "pw");
  master.start();
  slave.create();
  slave.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished = 1")[0][0] == "1";
  }, 30s)) << master.log();
  const auto row = sqlite(master.dbPath(), "SELECT result, text FROM steps");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0], "4") << "EXCEPTION";  // bb::Result::Exception
  EXPECT_NE(row[0][1].find("nosuch"), std::string::npos) << row[0][1];
  EXPECT_TRUE(master.running()) << "the master goes on";
}

}  // namespace
}  // namespace bb::test
