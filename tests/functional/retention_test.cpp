// The retention janitor with real processes: builds upload artifacts, a
// reconfig brings small horizons, and the janitor removes the right
// artifacts and logs. The files are gone from artifacts/BUILDER/NUMBER,
// the rows are marked, status (`buildbot status`, --build, REST, the
// pages) says what was removed, when and by which rule, and the kept
// artifacts still download with their SHA-256.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

constexpr int kRetentionSuccess = 0, kRetentionFailure = 2;

std::string retentionSha256(const std::string& path) {
  auto r = run({"sha256sum", path});
  return r.rc == 0 ? r.out.substr(0, 64) : "sha256sum failed: " + r.describe();
}

struct RetentionEnv {
  TempDir tmp{"bb-retention"};
  MasterProcess master{tmp.sub("master")};
  SlaveProcess s1{tmp.sub("s1"), master.port(), "s1", "pw"};
  SlaveProcess s2{tmp.sub("s2"), master.port(), "s2", "pw"};
  int webPort = freePort();

  std::string config(const std::string& retention) {
    const std::string v = verifier("pw");
    return "master: {name: ret, slave_port: " + std::to_string(master.port()) + ", web_port: " +
           std::to_string(webPort) + "}\n"
           "slaves: [{name: s1, password: " + q(v) + "}, {name: s2, password: " + q(v) + "}]\n"
           "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
           "builders:\n"
           "  - name: compile\n"
           "    slaves: [s1]\n"
           "    steps:\n"
           "      - shell: {name: build, command: \"head -c 1048576 /dev/urandom > out.bin && echo built\"}\n"
           "      - upload_file: {artifact: out.bin, src: out.bin}\n"
           "  - name: fetch\n"
           "    slaves: [s2]\n"
           "    steps:\n"
           "      - download_file: {artifact: out.bin, build: \"%(prop:want)s\", dest: got.bin}\n"
           "      - shell: {name: sum, command: \"sha256sum got.bin\"}\n"
           "schedulers:\n"
           "  - {name: force, type: force, builders: [compile, fetch]}\n" +
           retention;
  }

  RetentionEnv() {
    master.create();
    master.writeConfig(config(""));
    master.setAuth("alice", "pw");
    master.start();
    s1.create();
    s1.start();
    s2.create();
    s2.start();
    if (!master.waitForLog("slave s1 connected") || !master.waitForLog("slave s2 connected"))
      throw std::runtime_error(master.log());
  }

  std::string one(const std::string& sql) {
    auto rows = sqlite(master.dbPath(), sql);
    return rows.empty() || rows[0].empty() ? "" : rows[0][0];
  }
  std::string buildId(const std::string& builder, int number) {
    return one("SELECT id FROM builds WHERE builder='" + builder + "' AND number=" + std::to_string(number));
  }
  int result(const std::string& builder, int number) {
    const std::string r = one("SELECT result FROM builds WHERE finished=1 AND builder='" + builder +
                              "' AND number=" + std::to_string(number));
    return r.empty() ? -1 : std::stoi(r);
  }
  std::string show(const std::string& builder, int number, bool logs = false) {
    std::vector<std::string> args{"status", "--builder", builder, "--build", std::to_string(number)};
    if (logs) args.push_back("--logs");
    return master.client(args).describe();
  }
  std::string stored(int number) { return master.dir() + "/artifacts/compile/" + std::to_string(number) + "/out.bin"; }
};

TEST(Retention, TheJanitorRemovesWhatIsPastTheHorizonsAndStatusSaysSo) {
  RetentionEnv e;
  for (int i = 1; i <= 4; ++i) {
    auto f = e.master.client({"force", "--scheduler", "force", "--builder", "compile", "--wait"}, 120s);
    ASSERT_EQ(f.rc, 0) << f.describe() << e.show("compile", i);
  }
  std::string sums[5];
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(fileExists(e.stored(i))) << i;
    sums[i] = retentionSha256(e.stored(i));
  }

  // Keep 3 builds' artifacts (build 1 goes), at most 2 MiB of them (then
  // build 2, the oldest left, goes: 3 MiB -> 2 MiB), and one build's logs.
  e.master.writeConfig(e.config("retention:\n"
                                "  artifacts: {keep_builds_per_builder: 3, max_total_mb: 2}\n"
                                "  logs: {keep_builds_per_builder: 1}\n"));
  auto rc = e.master.reconfig();
  ASSERT_EQ(rc.rc, 0) << rc.describe();
  ASSERT_TRUE(e.master.waitForLog("retention: removed 2 artifact(s)")) << e.master.log();
  EXPECT_TRUE(e.master.waitForLog("reconfig complete: retention section changed")) << e.master.log();

  // The files and their build directories are gone; the rows say why.
  EXPECT_FALSE(fileExists(e.master.dir() + "/artifacts/compile/1"));
  EXPECT_FALSE(fileExists(e.master.dir() + "/artifacts/compile/2"));
  EXPECT_TRUE(fileExists(e.stored(3)));
  EXPECT_TRUE(fileExists(e.stored(4)));
  auto rows = sqlite(e.master.dbPath(),
                     "SELECT b.number, a.removed_by, a.removed_at > 0 FROM artifacts a JOIN builds b ON b.id = a.build_id"
                     " ORDER BY b.number");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "artifacts.keep_builds_per_builder=3", "1"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"2", "artifacts.max_total_mb=2", "1"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"3", "", "0"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"4", "", "0"}));
  auto logs = sqlite(e.master.dbPath(), "SELECT number, logs_removed_by FROM builds WHERE builder='compile' ORDER BY number");
  ASSERT_EQ(logs.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(logs[static_cast<std::size_t>(i)][1], "logs.keep_builds_per_builder=1") << i;
  EXPECT_EQ(logs[3][1], "");
  EXPECT_EQ(e.one("SELECT count(*) FROM log_chunks c JOIN logs l ON l.id = c.log_id JOIN steps s ON s.id = l.step_id"
                  " JOIN builds b ON b.id = s.build_id WHERE b.builder = 'compile' AND b.number < 4"),
            "0");

  // `buildbot status --build`: the artifact and the logs, removed by which rule.
  const std::string b1 = e.show("compile", 1, true);
  EXPECT_TRUE(contains(b1, "artifact out.bin (file, 1048576 bytes, sha256 " + sums[1] + "): removed by retention at "))
      << b1;
  EXPECT_TRUE(contains(b1, "(artifacts.keep_builds_per_builder=3)")) << b1;
  EXPECT_TRUE(contains(b1, "logs removed by retention at ")) << b1;
  EXPECT_TRUE(contains(b1, "[removed by retention at ")) << b1;  // the --logs text
  EXPECT_TRUE(contains(e.show("compile", 2), "(artifacts.max_total_mb=2)")) << e.show("compile", 2);
  const std::string b4 = e.show("compile", 4, true);
  EXPECT_FALSE(contains(b4, "removed by retention")) << b4;
  EXPECT_TRUE(contains(b4, "built")) << b4;

  // `buildbot status`: the janitor's last round.
  const std::string st = e.master.client({"status"}).describe();
  EXPECT_TRUE(contains(st, "Retention: last run ")) << st;
  EXPECT_TRUE(contains(st, "removed 2 artifact(s) (2097152 bytes), the logs of 3 build(s)")) << st;
  EXPECT_TRUE(contains(st, "artifacts.max_total_mb=2: 1")) << st;

  // REST and pages: 410 with the reason, not a bare 404.
  const std::string id1 = e.buildId("compile", 1);
  auto gone = httpGet(e.webPort, "/api/v2/builds/" + id1 + "/artifacts/out.bin");
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_TRUE(contains(gone.body, "removed by retention at ")) << gone.body;
  auto build = httpGet(e.webPort, "/api/v2/builds/" + id1);
  EXPECT_TRUE(contains(build.body, "\"logs_removed\"")) << build.body;
  auto list = httpGet(e.webPort, "/api/v2/builds/" + id1 + "/artifacts");
  EXPECT_TRUE(contains(list.body, "\"by\":\"artifacts.keep_builds_per_builder=3\"")) << list.body;
  const std::string logId = e.one("SELECT l.id FROM logs l JOIN steps s ON s.id = l.step_id WHERE s.build_id = " + id1 +
                                  " ORDER BY l.id LIMIT 1");
  auto raw = httpGet(e.webPort, "/api/v2/logs/" + logId + "/raw");
  EXPECT_EQ(raw.status, 410) << raw.body;
  auto ret = httpGet(e.webPort, "/api/v2/retention");
  ASSERT_EQ(ret.status, 200) << ret.body;
  EXPECT_TRUE(contains(ret.body, "\"artifacts\":2")) << ret.body;
  EXPECT_TRUE(contains(ret.body, "\"keep_builds_per_builder\":3")) << ret.body;
  auto page = httpGet(e.webPort, "/builders/compile/builds/1");
  EXPECT_TRUE(contains(page.body, "removed by retention at ")) << page.body;
  EXPECT_FALSE(contains(page.body, "api/v2/builds/" + id1 + "/artifacts/out.bin")) << page.body;
  auto front = httpGet(e.webPort, "/");
  EXPECT_TRUE(contains(front.body, "Retention: last run ")) << front.body;

  // The kept artifacts still download, whole: over HTTP and to a slave.
  auto bytes = httpGet(e.webPort, "/api/v2/builds/" + e.buildId("compile", 3) + "/artifacts/out.bin");
  ASSERT_EQ(bytes.status, 200);
  writeFile(e.tmp.sub("fetched"), bytes.body);
  EXPECT_EQ(retentionSha256(e.tmp.sub("fetched")), sums[3]);
  auto f = e.master.client({"force", "--scheduler", "force", "--builder", "fetch", "--property",
                            "want:" + e.buildId("compile", 4), "--wait"}, 120s);
  EXPECT_EQ(f.rc, 0) << f.describe() << e.show("fetch", 1, true);
  EXPECT_EQ(e.result("fetch", 1), kRetentionSuccess);
  EXPECT_EQ(retentionSha256(e.s2.dir() + "/fetch/build/got.bin"), sums[4]);
  // A removed one is refused with the reason in the step's log.
  auto refused = e.master.client({"force", "--scheduler", "force", "--builder", "fetch", "--property",
                                  "want:" + id1, "--wait"}, 120s);
  EXPECT_NE(refused.rc, 0);
  EXPECT_EQ(e.result("fetch", 2), kRetentionFailure);
  const std::string why = e.show("fetch", 2, true);
  EXPECT_TRUE(contains(why, "refused: artifact out.bin of compile #1 was removed by retention at ")) << why;
}

}  // namespace
}  // namespace bb::test
