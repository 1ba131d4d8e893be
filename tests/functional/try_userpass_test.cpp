// buildbot try --connect master with real processes: the job goes over the
// client protocol to a try_userpass scheduler (try_start, try_upload
// chunks, try_finish). A clone with a local commit and an uncommitted
// change (with a file bigger than one chunk) is built and --wait exits 0;
// a breaking patch exits non-zero; a wrong password, a user without `try`,
// a builder the scheduler does not list, a patch over max_patch_bytes and
// patches with '..' or an absolute path are refused with a clear message
// and nothing is built.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"
#include "tests/functional/raw_peer.hpp"

namespace bb::test {
namespace {

struct UserpassEnv {
  TempDir tmp{"bb-tryup"};
  GitRepo origin{tmp.sub("origin")};
  std::string dev = tmp.sub("dev");
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};
  int web = freePort();

  UserpassEnv() {
    origin.init();
    origin.commit("main.txt", "broken\n", "first");
    run({"git", "clone", "--quiet", origin.path(), dev});
    GitRepo d(dev);
    d.git({"config", "user.name", "Dev"});
    d.git({"config", "user.email", "dev@example.org"});
    d.commit("feature.txt", "new feature\n", "local commit");
    writeFile(dev + "/main.txt", "fixed\n");
    const std::string v = makeVerifier("pw");
    master.create();
    master.writeConfig(
        "master: {name: tryup, slave_port: " + std::to_string(master.port()) + ", web_port: " + std::to_string(web) + "}\n"
        "slaves: [{name: s1, password: " + q(v) + ", max_builds: 1}]\n"
        "users:\n"
        "  - {name: alice, password: " + q(v) + ", may: [try, status]}\n"
        "  - {name: bob, password: " + q(v) + ", may: [status, force]}\n"
        "builders:\n"
        "  - name: app\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - git: {repo: " + q(origin.path()) + ", branch: main}\n"
        "      - shell: {name: check, command: \"test -f feature.txt && grep -qx fixed main.txt\"}\n"
        "  - name: other\n"
        "    slaves: [s1]\n"
        "    steps: [{shell: {command: \"true\"}}]\n"
        "schedulers:\n"
        "  - {name: tryup, type: try_userpass, max_patch_bytes: 700000, builders: [app]}\n"
        "  - {name: trysmall, type: try_userpass, max_patch_bytes: 4000, builders: [app]}\n");
    master.start();
    slave.create();
    slave.start();
    if (!master.waitForLog("slave s1 connected")) throw std::runtime_error(master.log());
  }

  CmdResult tryAs(const std::string& auth, std::vector<std::string> args) {
    std::vector<std::string> argv = {BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master.port()),
                                     "--master-fingerprint", master.fingerprint(), "try", "--connect", "master"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dev, {{"HOME", tmp.path()}, {"BUILDBOT_MASTER", ""}, {"BUILDBOT_AUTH", auth}}, 40s);
  }
  int count(const std::string& sql) { return std::stoi(sqlite(master.dbPath(), sql)[0][0]); }
};

TEST(TryUserpass, ALocalCommitAndABigUncommittedChangeTravelInChunksAndAreBuilt) {
  UserpassEnv env;
  // ~600 KB of text: more than two 256 KiB chunks.
  std::string big;
  for (int i = 0; big.size() < 600000; ++i) big += "line " + std::to_string(i) + " of a big generated file\n";
  writeFile(env.dev + "/big.txt", big);
  GitRepo(env.dev).git({"add", "big.txt"});
  CmdResult r = env.tryAs("alice:pw", {"--scheduler", "tryup", "-b", "app", "--wait", "--comment", "chunked"});
  ASSERT_EQ(r.rc, 0) << r.describe() << env.master.log();
  EXPECT_NE(r.out.find("in 3 chunk(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("complete: success"), std::string::npos) << r.out;
  EXPECT_TRUE(env.master.waitForLog("from user alice"));
  auto rows = sqlite(env.master.dbPath(),
                     "SELECT b.ss_revision, p.author, p.comment, length(p.body) FROM buildsets b"
                     " JOIN buildset_patches p ON p.buildset_id = b.id");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], env.origin.head());
  EXPECT_EQ(rows[0][1], "alice");  // the authenticated user is the owner
  EXPECT_EQ(rows[0][2], "chunked");
  EXPECT_GT(std::stoi(rows[0][3]), 600000);
  // The patch landed whole on the slave: big.txt is in the build's tree.
  EXPECT_EQ(readFile(env.slave.dir() + "/app/build/big.txt"), big);
}

TEST(TryUserpass, ABreakingPatchMakesWaitExitNonZeroAndBuilderNamesAreListed) {
  UserpassEnv env;
  writeFile(env.dev + "/main.txt", "still broken\n");
  CmdResult r = env.tryAs("alice:pw", {"--scheduler", "tryup", "-b", "app", "--wait", "--quiet"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_NE(r.out.find("complete: failure"), std::string::npos) << r.out;
  CmdResult names = env.tryAs("alice:pw", {"--scheduler", "tryup", "--get-builder-names"});
  EXPECT_EQ(names.rc, 0) << names.describe();
  EXPECT_EQ(names.out, "app\n");
}

TEST(TryUserpass, TryBuildsAreMarkedWithThePatchDownloadableAndAreNeverTheBuildersLastResult) {
  UserpassEnv env;
  CmdResult r = env.tryAs("alice:pw", {"--scheduler", "tryup", "-b", "app", "--wait", "--comment", "marked\nmore"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  // buildbot status and the REST build say it is a try build, whose and why.
  CmdResult st = run({BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(env.master.port()), "--master-fingerprint",
            env.master.fingerprint(), "status", "--builder", "app"},
           env.dev, {{"HOME", env.tmp.path()}, {"BUILDBOT_MASTER", ""}, {"BUILDBOT_AUTH", "alice:pw"}}, 30s);
  EXPECT_NE(st.out.find("success [try by alice: marked]"), std::string::npos) << st.describe();
  HttpReply build = httpGet(env.web, "/api/v2/builders/app/builds/1");
  ASSERT_EQ(build.status, 200) << build.body;
  EXPECT_NE(build.body.find("\"try\":{\"comment\":\"marked\\nmore\",\"job_id\""), std::string::npos) << build.body;
  // The buildset carries the patch's facts, and the patch itself downloads.
  HttpReply bs = httpGet(env.web, "/api/v2/buildsets/1");
  EXPECT_NE(bs.body.find("\"author\":\"alice\""), std::string::npos) << bs.body;
  HttpReply patch = httpGet(env.web, "/api/v2/buildsets/1/patch");
  ASSERT_EQ(patch.status, 200);
  EXPECT_EQ(patch.body, GitRepo(env.dev).git({"diff", "--binary", "--full-index", "--no-color", env.origin.head()}));
  EXPECT_EQ(httpGet(env.web, "/api/v2/buildsets/999/patch").status, 404);
  // The builder's badge ignores the try build: it has no build of its own.
  HttpReply badge = httpGet(env.web, "/badges/app.svg");
  EXPECT_NE(badge.body.find("no builds"), std::string::npos) << badge.body;
  EXPECT_EQ(badge.body.find("success"), std::string::npos) << badge.body;
}

TEST(TryUserpass, RefusalsAreClearAndBuildNothing) {
  UserpassEnv env;
  // A wrong password: the login is refused.
  CmdResult r = env.tryAs("alice:nope", {"--scheduler", "tryup", "-b", "app"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("login refused"), std::string::npos) << r.err;
  // A user whose `may` lacks try.
  r = env.tryAs("bob:pw", {"--scheduler", "tryup", "-b", "app"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("user 'bob' may not use try_start (add 'try' to its `may` list)"), std::string::npos) << r.err;
  // Two try_userpass schedulers: the client must name one.
  r = env.tryAs("alice:pw", {"-b", "app"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("name the scheduler (--scheduler NAME)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("try_userpass schedulers: trysmall, tryup"), std::string::npos) << r.err;
  // A builder the scheduler does not list.
  r = env.tryAs("alice:pw", {"--scheduler", "tryup", "-b", "other"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("builder 'other' may not be tried here; it can try: app"), std::string::npos) << r.err;
  // Over max_patch_bytes: refused at try_start, before the patch is sent.
  writeFile(env.tmp.sub("big.diff"), "--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+" + std::string(5000, 'x') + "\n");
  r = env.tryAs("alice:pw", {"--scheduler", "trysmall", "-b", "app", "--diff", env.tmp.sub("big.diff")});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("more than this scheduler's max_patch_bytes (4000)"), std::string::npos) << r.err;
  // Patches that escape the tree.
  writeFile(env.tmp.sub("up.diff"), "--- a/../../evil\n+++ b/../../evil\n@@ -0,0 +1 @@\n+x\n");
  r = env.tryAs("alice:pw", {"--scheduler", "tryup", "-b", "app", "--diff", env.tmp.sub("up.diff")});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("contains '..'"), std::string::npos) << r.err;
  writeFile(env.tmp.sub("abs.diff"), "--- /etc/passwd\n+++ /etc/passwd\n@@ -0,0 +1 @@\n+x\n");
  r = env.tryAs("alice:pw", {"--scheduler", "tryup", "-b", "app", "--diff", env.tmp.sub("abs.diff"), "-p", "0"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("absolute path '/etc/passwd'"), std::string::npos) << r.err;
  EXPECT_EQ(env.count("SELECT count(*) FROM buildsets"), 0);
  EXPECT_EQ(env.count("SELECT count(*) FROM builds"), 0);
  EXPECT_TRUE(env.master.running());
  // The master still takes a good job afterwards.
  r = env.tryAs("alice:pw", {"--scheduler", "tryup", "-b", "app", "--wait", "--quiet"});
  EXPECT_EQ(r.rc, 0) << r.describe();
}

// What a hand-written client may send: malformed jobs and chunks out of
// order or beyond what was announced are refused with the reason; the
// master keeps running and builds nothing.
TEST(TryUserpass, MalformedJobsAndChunksAreRefusedWithTheReason) {
  UserpassEnv env;
  RawPeer p(env.master.port());
  p.login("client", "alice", "pw");
  int id = 0;
  auto call = [&](const std::string& method, Json params) {
    p.send(MsgType::Request, Json{{"id", ++id}, {"method", method}, {"params", std::move(params)}});
    auto r = p.waitFor(MsgType::Response);
    if (!r) throw std::runtime_error("no response to " + method + "\n" + env.master.log());
    return r->body;
  };
  auto message = [](const Json& r) { return r.value("error", Json::object()).value("message", std::string()); };
  Json job{{"job_id", "j1"}, {"builders", {"app"}}, {"patch_level", 1}};
  EXPECT_NE(message(call("try_start", {{"scheduler", "tryup"}, {"job", "text"}, {"patch_size", 1}})).find("job must be a map"),
            std::string::npos);
  EXPECT_NE(message(call("try_start", {{"scheduler", "tryup"}, {"job", job}})).find("patch_size (an integer) is required"),
            std::string::npos);
  Json badId = job;
  badId["job_id"] = "../x";
  Json r = call("try_start", {{"scheduler", "tryup"}, {"job", badId}, {"patch_size", 10}});
  EXPECT_EQ(r["error"]["code"], "rejected");
  EXPECT_NE(message(r).find("job id"), std::string::npos) << r.dump();
  Json noBuilder = job;
  noBuilder["builders"] = Json::array();
  EXPECT_NE(message(call("try_start", {{"scheduler", "tryup"}, {"job", noBuilder}, {"patch_size", 10}})).find("builder"),
            std::string::npos);
  EXPECT_NE(message(call("try_start", {{"scheduler", "nope"}, {"job", job}, {"patch_size", 10}}))
                .find("no try_userpass scheduler named 'nope'"),
            std::string::npos);
  // A good start, then chunks that do not fit.
  const std::string patch = "--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+x\n";
  r = call("try_start", {{"scheduler", "tryup"}, {"job", job}, {"patch_size", patch.size()}});
  ASSERT_EQ(r["result"]["upload_id"], "j1") << r.dump();
  auto bin = [](const std::string& s) { return Json::binary(std::vector<std::uint8_t>(s.begin(), s.end())); };
  EXPECT_NE(message(call("try_upload", {{"scheduler", "tryup"}, {"upload_id", "j1"}, {"offset", 5}, {"data", bin("abc")}}))
                .find("chunk at offset 5, expected 0"),
            std::string::npos);
  EXPECT_NE(message(call("try_finish", {{"scheduler", "tryup"}, {"upload_id", "j1"}}))
                .find("the patch is incomplete: 0 of " + std::to_string(patch.size()) + " bytes received"),
            std::string::npos);
  // The upload ended with the refusal; another one sends too much.
  job["job_id"] = "j2";
  call("try_start", {{"scheduler", "tryup"}, {"job", job}, {"patch_size", 4}});
  EXPECT_NE(message(call("try_upload", {{"scheduler", "tryup"}, {"upload_id", "j2"}, {"offset", 0}, {"data", bin(patch)}}))
                .find("more patch bytes than the 4 declared"),
            std::string::npos);
  EXPECT_NE(message(call("try_upload", {{"scheduler", "tryup"}, {"upload_id", "j2"}, {"offset", 0}, {"data", bin("x")}}))
                .find("unknown upload 'j2'"),
            std::string::npos);
  // Another user cannot finish alice's upload.
  job["job_id"] = "j3";
  call("try_start", {{"scheduler", "tryup"}, {"job", job}, {"patch_size", 0}});
  {
    RawPeer other(env.master.port());
    other.login("client", "bob", "pw");
    other.send(MsgType::Request, Json{{"id", 1}, {"method", "try_finish"}, {"params", {{"scheduler", "tryup"}, {"upload_id", "j3"}}}});
    auto denied = other.waitFor(MsgType::Response);
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->body["error"]["code"], "not_permitted");
  }
  EXPECT_EQ(env.count("SELECT count(*) FROM buildsets"), 0);
  EXPECT_TRUE(env.master.waitForLog("request refused: rejected: try scheduler 'tryup' refused job j2: more patch bytes"));
  EXPECT_TRUE(env.master.running());
  // An empty patch is a job on the base revision: it finishes.
  r = call("try_finish", {{"scheduler", "tryup"}, {"upload_id", "j3"}});
  EXPECT_TRUE(r["result"]["buildset_id"].is_number_integer()) << r.dump();
}

}  // namespace
}  // namespace bb::test
