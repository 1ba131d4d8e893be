// The web pages in a real browser: Debian's chromium, headless, driven by
// tests/functional/browser/browse.py (chromium-driver + python3-selenium)
// against a real master and slave. Screenshots of each page go to
// screenshots/ in the test's working directory (build/tests/).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

std::string jq(const std::string& s) { return Json(s).dump(); }

std::string shot(const std::string& name) {
  const auto dir = std::filesystem::current_path() / "screenshots";
  std::filesystem::create_directories(dir);
  return (dir / (name + ".png")).string();
}

class WebPages : public ::testing::Test {
 protected:
  void start(const std::string& steps, const std::string& extra = "") {
    master.create();
    master.writeConfig(
        "master: {name: pages, slave_port: " + std::to_string(master.port()) +
        ", web_port: " + std::to_string(web) + ", url: " + jq(base() + "/") + "}\n"
        "slaves: [{name: s1, password: " + jq(v) + "}]\n"
        "users:\n"
        "  - {name: alice, password: " + jq(v) + ", may: [sendchange, force, status, stop_slave]}\n"
        "  - {name: bob, password: " + jq(v) + ", may: [status]}\n"
        "builders:\n"
        "  - {name: b1, slaves: [s1], steps: [" + steps + "]}\n"
        "schedulers:\n"
        "  - {name: all, type: single_branch, branch: main, builders: [b1]}\n"
        "  - {name: force, type: force, builders: [b1]}\n" + extra);
    master.setAuth("alice", "pw");
    master.start();
    slave.create();
    slave.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
    ASSERT_TRUE(master.waitForLog("web: serving on")) << master.log();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(web); }

  // Runs the scenario in a fresh browser; the values it recorded.
  Json browse(const Json& steps) {
    const std::string file = tmp.sub("scenario.json");
    writeFile(file, steps.dump());
    const CmdResult r = run({"/usr/bin/python3", std::string(BB_SOURCE_DIR) + "/tests/functional/browser/browse.py", file},
                            "", {}, 150s);
    Json out;
    try {
      out = Json::parse(r.out);
    } catch (const std::exception&) {
      ADD_FAILURE() << "the browser driver did not answer JSON:\n" << r.describe();
      return Json::object();
    }
    EXPECT_TRUE(out["ok"].get<bool>()) << out["error"] << "\n" << out["values"].dump(2) << "\n" << master.log();
    return out["values"];
  }
  int builds(const std::string& extraQuery = "") {
    const HttpReply r = httpGet(web, "/api/v2/builds?complete=true" + extraQuery);
    return r.status == 200 ? Json::parse(r.body)["meta"]["total"].get<int>() : -1;
  }

  TempDir tmp;
  std::string v = makeVerifier("pw");
  int web = freePort();
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("s1"), master.port(), "s1", "pw"};
};

TEST_F(WebPages, FrontPageAndWaterfallShowABuildThatACommitCaused) {
  GitRepo repo(tmp.sub("repo"));
  repo.init();
  repo.commit("README.md", "first\n", "initial");
  start("{git: {repo: " + jq(repo.path()) + "}}, {shell: {name: compile, command: \"echo compiled\"}}",
        "change_sources:\n  - {name: repo, type: git_poller, repo: " + jq(repo.path()) +
            ", branches: [main], interval: 1}\n");
  ASSERT_TRUE(master.waitForLog("watching main")) << master.log();
  const std::string sha = repo.commit("data.txt", "x\n", "add the data file");
  ASSERT_TRUE(waitFor([&] { return builds() == 1; }, 60s)) << master.log();

  const Json got = browse(Json::array({
      {{"get", base() + "/"}},
      {{"wait_css", "tr[data-builder=b1] .result-success"}},
      {{"text", "tr[data-builder=b1]"}, {"as", "row"}},
      {{"text", "section.changes"}, {"as", "changes"}},
      {{"text", "section.slaves"}, {"as", "slaves"}},
      {{"screenshot", shot("front")}},
      {{"get", base() + "/waterfall"}},
      {{"wait_css", "table.waterfall div.build.result-success"}},
      {{"text", "table.waterfall thead"}, {"as", "head"}},
      {{"text", "table.waterfall div.build"}, {"as", "build"}},
      {{"text", "table.waterfall td.changes-col .change"}, {"as", "change"}},
      {{"js", "document.querySelector('table.waterfall div.build a').getAttribute('href')"}, {"as", "href"}},
      {{"screenshot", shot("waterfall")}},
  }));
  EXPECT_NE(got["row"].get<std::string>().find("#1"), std::string::npos) << got["row"];
  EXPECT_NE(got["row"].get<std::string>().find("success"), std::string::npos) << got["row"];
  EXPECT_NE(got["changes"].get<std::string>().find("add the data file"), std::string::npos) << got["changes"];
  EXPECT_NE(got["changes"].get<std::string>().find(sha.substr(0, 12)), std::string::npos) << got["changes"];
  EXPECT_NE(got["slaves"].get<std::string>().find("s1 (connected)"), std::string::npos) << got["slaves"];
  EXPECT_NE(got["head"].get<std::string>().find("b1"), std::string::npos);
  EXPECT_NE(got["head"].get<std::string>().find("s1"), std::string::npos) << "the builder's slaves head its column";
  EXPECT_NE(got["build"].get<std::string>().find("compile"), std::string::npos) << got["build"];
  EXPECT_NE(got["change"].get<std::string>().find("add the data file"), std::string::npos) << got["change"];
  EXPECT_EQ(got["href"], "/builders/b1/builds/1");
}

TEST_F(WebPages, ABuildPagesLogGainsLinesWhileTheBuildRuns) {
  // The build prints 20 lines, then waits (up to 3 minutes) for a gate
  // file the browser creates once it has the page open, then prints 20
  // more: however long the browser takes to start on a loaded host, the
  // page opens on a running build and sees later lines arrive.
  const std::string gate = tmp.sub("gate");
  start("{shell: {name: slow, command: " +
        jq("for i in $(seq 1 20); do echo line-$i; done; n=0; while [ ! -e " + gate +
           " ] && [ $n -lt 1800 ]; do sleep 0.1; n=$((n+1)); done; for i in $(seq 21 40); do echo line-$i; sleep 0.1; done") +
        "}}");
  auto r = master.client({"force", "--scheduler", "force", "--reason", "watch it"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  // Open the page while the build runs: the log shows some lines, then
  // later ones arrive without a reload.
  ASSERT_TRUE(waitFor([&] { return httpGet(web, "/builders/b1/builds/1").body.find("line-2") != std::string::npos; }, 30s));
  const Json got = browse(Json::array({
      {{"get", base() + "/builders/b1/builds/1"}},
      {{"wait_css", "pre#log"}, {"timeout", 60}},
      {{"js", "document.getElementById('log').textContent"}, {"as", "first"}},
      {{"js", "window.__marker = 'same page'"}, {"as", "marked"}},
      {{"touch", gate}},
      {{"wait_js", "document.getElementById('log').textContent.indexOf('line-40') >= 0"}, {"timeout", 40}},
      {{"js", "document.getElementById('log').textContent"}, {"as", "last"}},
      {{"js", "window.__marker"}, {"as", "marker"}},
      {{"screenshot", shot("build-live-log")}},
  }));
  const std::string first = got.value("first", ""), last = got.value("last", "");
  EXPECT_EQ(first.find("line-40"), std::string::npos) << "the build was still running when the page loaded";
  EXPECT_NE(last.find("line-40"), std::string::npos);
  EXPECT_EQ(got["marker"], "same page") << "the lines arrived without reloading the page";
  // Each line once: the tail never repeats what the page already had.
  EXPECT_EQ(last.find("line-3\n"), last.rfind("line-3\n")) << last;
}

TEST_F(WebPages, ALoggedInUserForcesABuildWithTheForm) {
  start("{shell: {name: hello, command: \"echo hello\"}}");
  const Json got = browse(Json::array({
      {{"get", base() + "/builders/b1"}},
      {{"js", "document.querySelectorAll('form.force').length"}, {"as", "forms_anonymous"}},
      {{"get", base() + "/login?next=/builders/b1"}},
      {{"fill", "input[name=user]"}, {"value", "alice"}},
      {{"fill", "input[name=password]"}, {"value", "pw"}},
      {{"click", "form.login button"}},
      {{"wait_css", "form.force"}},
      {{"fill", "form.force input[name=reason]"}, {"value", "forced in the browser"}},
      {{"click", "form.force button"}},
      {{"wait_js", "document.querySelector('form.force .notice') && /BuildSet \\d+ created/.test(document.querySelector('form.force .notice').textContent)"}},
      {{"text", "form.force .notice"}, {"as", "notice"}},
      {{"screenshot", shot("builder-force")}},
  }));
  EXPECT_EQ(got["forms_anonymous"], 0) << "no force form for a visitor who is not logged in";
  EXPECT_NE(got["notice"].get<std::string>().find("created"), std::string::npos);
  ASSERT_TRUE(waitFor([&] { return builds() == 1; }, 30s)) << master.log();
  const Json b = Json::parse(httpGet(web, "/api/v2/builds?number=1").body)["builds"][0];
  EXPECT_EQ(b["results"], 0) << b.dump();  // SUCCESS
}

TEST_F(WebPages, AControlRequestFromAForeignOriginIsRefused) {
  start("{shell: {name: hello, command: \"echo hello\"}}");
  // The page is loaded from http://localhost:PORT, another origin than the
  // master's http://127.0.0.1:PORT; it posts to the master the two ways a
  // foreign page can without a CORS preflight, with the user's session.
  const std::string api = base() + "/api/v2/forceschedulers/force";
  const Json got = browse(Json::array({
      {{"get", base() + "/login"}},
      {{"fill", "input[name=user]"}, {"value", "alice"}},
      {{"fill", "input[name=password]"}, {"value", "pw"}},
      {{"click", "form.login button"}},
      {{"wait_css", "nav.top form.logout"}},
      {{"get", "http://localhost:" + std::to_string(web) + "/"}},
      {{"async_js", "fetch(" + jq(api) + ", {method: 'POST', mode: 'no-cors', credentials: 'include',"
                    " headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({method: 'force', params: {builders: ['b1']}})})"
                    ".then(function () { done('sent'); }, function (e) { done('error ' + e); });"},
       {"as", "fetch"}},
  }));
  EXPECT_EQ(got["fetch"], "sent");
  ASSERT_TRUE(master.waitForLog("foreign Origin")) << master.log();
  // Nothing was forced.
  const HttpReply bs = httpGet(web, "/api/v2/buildsets");
  ASSERT_EQ(bs.status, 200);
  EXPECT_EQ(Json::parse(bs.body)["meta"]["total"], 0) << bs.body;
}

TEST_F(WebPages, HostileTextStaysTextInTheBrowser) {
  // Step and builder names are limited by the config to letters, digits,
  // '.', '_', '-' and ' ', so the hostile text comes from changes,
  // properties and output.
  start("{shell: {name: show, command: " +
        jq("printf '\\033[31m<img src=x onerror=alert(\"log\")>\\033[0m red\\n<script>alert(\"log2\")</script>\\n'") + "}}");
  const std::string author = "<script>alert('author')</script>";
  const std::string comments = "<img src=x onerror=alert('comments')> and javascript:alert(1)";
  const std::string branch = "main";
  auto r = master.client({"sendchange", "--who", author, "--branch", branch, "--revision", "\"><svg onload=alert('rev')>",
                          "--comments", comments, "--property", "note:<iframe src=javascript:alert('prop')>", "f.c"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return builds() == 1; }, 30s)) << master.log();
  // On every page: nothing ran (window.__xss stays empty) and no element
  // came from the text.
  Json steps = Json::array();
  auto check = [&](const std::string& page) {
    steps.push_back({{"js", "window.__xss.join(',')"}, {"as", "xss_" + page}});
    steps.push_back({{"js", "document.querySelectorAll('img[src=x], svg[onload], iframe, script:not([src])').length"},
                     {"as", "injected_" + page}});
  };
  for (const Json& st : Json::array({
           {{"get", base() + "/"}},
           {{"wait_css", "section.changes td.comments"}},
           {{"text", "section.changes"}, {"as", "front_changes"}}}))
    steps.push_back(st);
  check("front");
  steps.push_back({{"get", base() + "/changes/1"}});
  steps.push_back({{"text", "main"}, {"as", "change"}});
  check("change");
  steps.push_back({{"get", base() + "/waterfall"}});
  steps.push_back({{"wait_css", "table.waterfall div.build"}});
  steps.push_back({{"text", "table.waterfall"}, {"as", "waterfall"}});
  check("waterfall");
  steps.push_back({{"get", base() + "/builders/b1/builds/1"}});
  steps.push_back({{"text", "main"}, {"as", "build"}});
  check("build");
  steps.push_back({{"get", base() + "/builders/b1/builds/1/steps/1/logs/stdio"}});
  steps.push_back({{"wait_css", "pre#log"}});
  steps.push_back({{"text", "pre#log"}, {"as", "log"}});
  steps.push_back({{"js", "document.querySelectorAll('pre#log span.ansi-fg-1').length"}, {"as", "red_spans"}});
  steps.push_back({{"screenshot", shot("hostile-log")}});
  check("log");
  const Json got = browse(steps);
  for (const char* page : {"front", "change", "waterfall", "build", "log"}) {
    EXPECT_EQ(got["xss_" + std::string(page)], "") << page;
    EXPECT_EQ(got["injected_" + std::string(page)], 0) << page;
  }
  EXPECT_NE(got["front_changes"].get<std::string>().find("<img src=x onerror=alert('comments')>"), std::string::npos)
      << got["front_changes"];
  EXPECT_NE(got["change"].get<std::string>().find(author), std::string::npos) << got["change"];
  EXPECT_NE(got["change"].get<std::string>().find("\"><svg onload=alert('rev')>"), std::string::npos) << got["change"];
  EXPECT_NE(got["waterfall"].get<std::string>().find("<img src=x onerror=alert('comments')>"), std::string::npos)
      << got["waterfall"];
  EXPECT_NE(got["build"].get<std::string>().find("<iframe src=javascript:alert('prop')>"), std::string::npos)
      << got["build"];
  EXPECT_NE(got["log"].get<std::string>().find("<img src=x onerror=alert(\"log\")> red"), std::string::npos) << got["log"];
  EXPECT_NE(got["log"].get<std::string>().find("<script>alert(\"log2\")</script>"), std::string::npos) << got["log"];
  EXPECT_EQ(got["red_spans"], 1) << "the ANSI colour became a class";
}

TEST_F(WebPages, NamedUrlsAreLinksOnlyWhenSafe) {
  // Two from the step's config, two from its command's output.
  start("{shell: {name: show, command: " +
        jq("echo '##buildbot-url docs https://docs.example.org/%(prop:revision)s'; "
          "echo '##buildbot-url page data:text/html,<script>alert(\"data\")</script>'") +
        ", urls: {builder: \"/builders/b1\", evil: \"javascript:alert('url')\"}}}");
  ASSERT_EQ(master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "r42"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return builds() == 1; }, 30s)) << master.log();
  const std::string links = "Array.prototype.map.call(document.querySelectorAll(SEL), function (a) {"
                            " return a.textContent + '=' + a.getAttribute('href'); }).join(' ')";
  auto linksOf = [&](const std::string& sel) {
    std::string js = links;
    js.replace(js.find("SEL"), 3, jq(sel));
    return js;
  };
  const Json got = browse(Json::array({
      {{"get", base() + "/builders/b1/builds/1"}},
      {{"wait_css", "#steps ul.urls"}},
      {{"js", linksOf("#steps ul.urls a")}, {"as", "step_links"}},
      {{"js", linksOf("#build > ul.urls a")}, {"as", "build_links"}},
      {{"text", "#steps ul.urls"}, {"as", "step_text"}},
      {{"js", "document.querySelectorAll('a[href^=javascript], a[href^=data], a[href^=JAVASCRIPT]').length"},
       {"as", "unsafe_links"}},
      {{"js", "document.querySelectorAll('#steps span.unsafe-url').length"}, {"as", "unsafe_spans"}},
      {{"js", "window.__xss.join(',')"}, {"as", "xss"}},
      {{"screenshot", shot("build-urls")}},
  }));
  const std::string expected = "builder=/builders/b1 docs=https://docs.example.org/r42";
  EXPECT_EQ(got["step_links"], expected) << "the safe ones are links";
  EXPECT_EQ(got["build_links"], expected) << "a build shows its steps' links";
  EXPECT_EQ(got["unsafe_links"], 0);
  EXPECT_EQ(got["unsafe_spans"], 2);
  const std::string text = got["step_text"].get<std::string>();
  EXPECT_NE(text.find("evil javascript:alert('url')"), std::string::npos) << text;
  EXPECT_NE(text.find("page data:text/html,<script>alert(\"data\")</script>"), std::string::npos) << text;
  EXPECT_EQ(got["xss"], "");
}

TEST_F(WebPages, AUserWhoMayStopsASlaveGracefullyWithItsButton) {
  start("{shell: {name: hello, command: \"echo hello\"}}");
  const Json got = browse(Json::array({
      {{"get", base() + "/slaves"}},
      {{"js", "document.querySelectorAll('form.control[data-method=stop_slave]').length"}, {"as", "buttons_anonymous"}},
      {{"get", base() + "/login?next=/slaves"}},
      {{"fill", "input[name=user]"}, {"value", "alice"}},
      {{"fill", "input[name=password]"}, {"value", "pw"}},
      {{"click", "form.login button"}},
      {{"wait_css", "#slave-s1 form.control[data-method=stop_slave]"}},
      {{"click", "#slave-s1 form.control button"}},
      {{"wait_js", "document.querySelector('#slave-s1 .notice') && /draining/.test(document.querySelector('#slave-s1 .notice').textContent)"}},
      {{"text", "#slave-s1 .notice"}, {"as", "notice"}},
      {{"screenshot", shot("slaves-stop")}},
  }));
  EXPECT_EQ(got["buttons_anonymous"], 0) << "no stop button for a visitor who is not logged in";
  EXPECT_NE(got["notice"].get<std::string>().find("draining"), std::string::npos) << got["notice"];
  // An idle slave is told ShutdownReady at once and exits 0.
  ASSERT_TRUE(waitFor([&] { return !slave.running(); }, 30s)) << slave.log();
  EXPECT_EQ(slave.stop(), 0) << slave.log();
  EXPECT_TRUE(master.waitForLog("slave s1 is draining: stopped by alice")) << master.log();
}

}  // namespace
}  // namespace bb::test
