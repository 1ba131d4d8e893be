// "Compile once, test on many slaves" with a dependent scheduler: the
// compile builder on one slave uploads a file; once its BuildSet passes, a
// dependent scheduler starts a build on another slave that downloads it by
// naming the upstream builder (`builder: compile`) and checks its SHA-256.
// A build with no upstream is refused with the reason in its log.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

std::string upstreamSha256(const std::string& path) {
  auto r = run({"sha256sum", path});
  return r.rc == 0 ? r.out.substr(0, 64) : "sha256sum failed: " + r.describe();
}

TEST(UpstreamArtifacts, ADependentBuildDownloadsItsUpstreamBuildsArtifact) {
  TempDir tmp{"bb-upstream"};
  MasterProcess master{tmp.sub("master")};
  SlaveProcess s1{tmp.sub("s1"), master.port(), "s1", "pw"};
  SlaveProcess s2{tmp.sub("s2"), master.port(), "s2", "pw"};
  const std::string v = verifier("pw");
  master.create();
  master.writeConfig(
      "master: {name: up, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + "}, {name: s2, password: " + q(v) + "}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
      "builders:\n"
      "  - name: compile\n"
      "    slaves: [s1]\n"
      "    steps:\n"
      "      - shell: {command: \"head -c 3000000 /dev/urandom > app.bin\"}\n"
      "      - upload_file: {artifact: app.bin, src: app.bin, mode: \"0755\"}\n"
      "  - name: test\n"
      "    slaves: [s2]\n"
      "    steps:\n"
      "      - download_file: {artifact: app.bin, builder: compile, dest: bin/app}\n"
      "      - shell: {name: check, command: \"sha256sum bin/app && test -x bin/app\"}\n"
      "schedulers:\n"
      "  - {name: force, type: force, builders: [compile]}\n"
      "  - {name: alone, type: force, builders: [test]}\n"
      "  - {name: after, type: dependent, upstream: force, builders: [test]}\n");
  master.setAuth("alice", "pw");
  master.start();
  s1.create();
  s1.start();
  s2.create();
  s2.start();
  ASSERT_TRUE(master.waitForLog("slave s1 connected") && master.waitForLog("slave s2 connected")) << master.log();

  // Two compile builds first, so "the newest compile build" would be the
  // wrong answer for the first dependent build if it were used.
  auto f = master.client({"force", "--scheduler", "force", "--builder", "compile", "--wait"}, 120s);
  ASSERT_EQ(f.rc, 0) << f.describe();
  auto result = [&](const std::string& builder, int number) {
    auto rows = sqlite(master.dbPath(), "SELECT finished, result FROM builds WHERE builder='" + builder +
                                            "' AND number=" + std::to_string(number));
    return rows.empty() || rows[0][0] != "1" ? -1 : std::stoi(rows[0][1]);
  };
  ASSERT_TRUE(waitFor([&] { return result("test", 1) != -1; }, 60s)) << master.log();
  const auto show = [&](const std::string& builder, int number) {
    return master.client({"status", "--builder", builder, "--build", std::to_string(number), "--logs"}).describe();
  };
  ASSERT_EQ(result("test", 1), 0) << show("test", 1);
  const std::string built = upstreamSha256(s1.dir() + "/compile/build/app.bin");
  EXPECT_EQ(upstreamSha256(master.dir() + "/artifacts/compile/1/app.bin"), built);
  EXPECT_EQ(upstreamSha256(s2.dir() + "/test/build/bin/app"), built);
  const std::string log = show("test", 1);
  EXPECT_TRUE(contains(log, "sending artifact app.bin of compile #1")) << log;
  // The dependent build names the compile build's BuildSet in its properties.
  const auto props = sqlite(master.dbPath(), "SELECT properties FROM builds WHERE builder='test' AND number=1");
  ASSERT_EQ(props.size(), 1u);
  EXPECT_TRUE(contains(props[0][0], "\"upstream_buildset_id\":[1,\"Dependent\"]")) << props[0][0];

  // The second upstream build: its dependent build fetches its own file.
  f = master.client({"force", "--scheduler", "force", "--builder", "compile", "--wait"}, 120s);
  ASSERT_EQ(f.rc, 0) << f.describe();
  ASSERT_TRUE(waitFor([&] { return result("test", 2) != -1; }, 60s)) << master.log();
  ASSERT_EQ(result("test", 2), 0) << show("test", 2);
  const std::string second = upstreamSha256(s1.dir() + "/compile/build/app.bin");
  EXPECT_NE(second, built);
  EXPECT_EQ(upstreamSha256(s2.dir() + "/test/build/bin/app"), second);
  EXPECT_TRUE(contains(show("test", 2), "sending artifact app.bin of compile #2")) << show("test", 2);

  // Forced on its own, the test build has no upstream: refused, said why.
  auto alone = master.client({"force", "--scheduler", "alone", "--builder", "test", "--wait"}, 120s);
  EXPECT_NE(alone.rc, 0);
  EXPECT_EQ(result("test", 3), 2);
  EXPECT_TRUE(contains(show("test", 3), "refused: builder: compile names an upstream build, but this build has none"))
      << show("test", 3);
}

}  // namespace
}  // namespace bb::test
