// File transfer steps with real processes: "compile once, test on many
// slaves". A builder on one slave uploads a directory (30 MB) and a file;
// a triggered build on another slave downloads both, one through
// %(prop:parent_build_id)s and one naming the triggering builder
// (`builder: compile`), and checks them with sha256sum. A 200 MB
// directory goes the same way while the resident memory of the master and
// both slaves is sampled: it stays flat (the transfer is streamed). The artifacts
// are listed by `buildbot status --build` and REST and downloadable over
// HTTP; an unsafe name is refused; a slave killed during an upload ends
// the build RETRY and leaves no partial artifact.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <map>
#include <thread>

#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

constexpr int kSuccess = 0, kFailure = 2, kRetry = 5;

std::string sha256sum(const std::string& path) {
  auto r = run({"sha256sum", path});
  return r.rc == 0 ? r.out.substr(0, 64) : "sha256sum failed: " + r.describe();
}

// Every file under `dir` whose name says it is an unfinished transfer.
std::vector<std::string> partials(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (contains(it->path().filename().string(), ".partial-")) out.push_back(it->path().string());
  return out;
}

struct ArtifactEnv {
  TempDir tmp{"bb-artifacts"};
  MasterProcess master{tmp.sub("master")};
  SlaveProcess s1{tmp.sub("s1"), master.port(), "s1", "pw"};
  SlaveProcess s2{tmp.sub("s2"), master.port(), "s2", "pw"};
  int webPort = freePort();

  ArtifactEnv() {
    const std::string v = verifier("pw");
    master.create();
    master.writeConfig(
        "master: {name: art, slave_port: " + std::to_string(master.port()) + ", web_port: " +
        std::to_string(webPort) + "}\n"
        "slaves: [{name: s1, password: " + q(v) + "}, {name: s2, password: " + q(v) + "}]\n"
        "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
        "builders:\n"
        "  - name: compile\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - shell: {name: build, command: \"rm -rf dist && mkdir -p dist/doc && head -c 31457280 /dev/urandom > dist/app.bin "
        "&& echo readme > dist/doc/README && ln -s app.bin dist/current && cd dist && sha256sum app.bin doc/README > SHA256SUMS\"}\n"
        "      - upload_directory: {artifact: dist, src: dist, max_size: 104857600}\n"
        "      - upload_file: {artifact: app.bin, src: dist/app.bin, mode: \"0755\", max_size: 104857600, keep: 1}\n"
        "      - trigger: {schedulers: [tests], wait_for_finish: true}\n"
        "  - name: test\n"
        "    slaves: [s2]\n"
        "    steps:\n"
        "      - download_directory: {artifact: dist, build: \"%(prop:parent_build_id)s\", dest: got, max_size: 104857600}\n"
        "      - download_file: {artifact: app.bin, builder: compile, dest: bin/app, max_size: 104857600}\n"
        "      - shell: {name: check, command: \"cd got && sha256sum -c SHA256SUMS && cmp app.bin ../bin/app && test -x ../bin/app "
        "&& test -L current\"}\n"
        "  - name: named\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - shell: {command: \"echo hi > f\"}\n"
        "      - upload_file: {artifact: \"%(prop:aname)s\", src: f}\n"
        "  - name: big\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - shell: {name: build, command: \"rm -rf big && mkdir -p big/sub && head -c 104857600 /dev/urandom > big/a "
        "&& head -c 104857600 /dev/urandom > big/sub/b && cd big && sha256sum a sub/b > SHA256SUMS\"}\n"
        "      - upload_directory: {artifact: big, src: big, max_size: 314572800}\n"
        "      - trigger: {schedulers: [bigtests], wait_for_finish: true}\n"
        "  - name: bigtest\n"
        "    slaves: [s2]\n"
        "    steps:\n"
        "      - download_directory: {artifact: big, build: \"%(prop:parent_build_id)s\", dest: got, max_size: 314572800}\n"
        "      - shell: {name: check, command: \"cd got && sha256sum -c SHA256SUMS\"}\n"
        "  - name: slow\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - shell: {command: \"rm -f big && truncate -s 4G big\"}\n"
        "      - upload_file: {artifact: big, src: big, max_size: 5368709120}\n"
        "schedulers:\n"
        "  - {name: tests, type: triggerable, builders: [test]}\n"
        "  - {name: bigtests, type: triggerable, builders: [bigtest]}\n"
        "  - {name: force, type: force, builders: [compile, named, slow, big]}\n");
    master.setAuth("alice", "pw");
    master.start();
    s1.create();
    s1.start();
    s2.create();
    s2.start();
    if (!master.waitForLog("slave s1 connected") || !master.waitForLog("slave s2 connected"))
      throw std::runtime_error(master.log());
  }

  int result(const std::string& builder, int number) {
    auto rows = sqlite(master.dbPath(), "SELECT finished, result FROM builds WHERE builder='" + builder +
                                            "' AND number=" + std::to_string(number));
    if (rows.empty() || rows[0][0] != "1") return -1;
    return std::stoi(rows[0][1]);
  }
  std::string show(const std::string& builder, int number) {
    auto r = master.client({"status", "--builder", builder, "--build", std::to_string(number), "--logs"});
    return r.describe();
  }
};

TEST(Artifacts, CompileOnceTestOnAnotherSlave) {
  ArtifactEnv e;
  auto f = e.master.client({"force", "--scheduler", "force", "--builder", "compile", "--wait"}, 120s);
  ASSERT_EQ(f.rc, 0) << f.describe() << e.show("compile", 1) << e.show("test", 1);
  EXPECT_EQ(e.result("compile", 1), kSuccess);
  ASSERT_EQ(e.result("test", 1), kSuccess) << e.show("test", 1);

  // The slave's file, the master's copy and the downstream copy agree.
  const std::string built = sha256sum(e.s1.dir() + "/compile/build/dist/app.bin");
  const std::string stored = e.master.dir() + "/artifacts/compile/1/app.bin";
  EXPECT_EQ(sha256sum(stored), built);
  EXPECT_EQ(sha256sum(e.s2.dir() + "/test/build/bin/app"), built);
  EXPECT_TRUE(partials(e.master.dir() + "/artifacts").empty());

  auto rows = sqlite(e.master.dbPath(), "SELECT name, kind, size, sha256, mode FROM artifacts ORDER BY name");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"app.bin", "file", "31457280", built, std::to_string(0755)}));
  EXPECT_EQ(rows[1][0], "dist");
  EXPECT_EQ(rows[1][1], "directory");

  const std::string status = e.show("compile", 1);
  EXPECT_TRUE(contains(status, "artifact app.bin (file, 31457280 bytes, sha256 " + built + ")")) << status;
  EXPECT_TRUE(contains(status, "artifact dist (directory, ")) << status;
  const std::string test = e.show("test", 1);
  EXPECT_TRUE(contains(test, "sent artifact") || contains(test, "sending artifact app.bin of compile #1")) << test;
  EXPECT_TRUE(contains(test, "app.bin: OK")) << test;

  // REST: the list, and the bytes over HTTP.
  auto list = httpGet(e.webPort, "/api/v2/builds/1/artifacts");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_TRUE(contains(list.body, "\"sha256\":\"" + built + "\"")) << list.body;
  auto bytes = httpGet(e.webPort, "/api/v2/builds/1/artifacts/app.bin");
  ASSERT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body.size(), 31457280u);
  writeFile(e.tmp.sub("fetched"), bytes.body);
  EXPECT_EQ(sha256sum(e.tmp.sub("fetched")), built);
  EXPECT_EQ(httpGet(e.webPort, "/api/v2/builds/1/artifacts/..").status, 400);
  EXPECT_EQ(httpGet(e.webPort, "/api/v2/builds/1/artifacts/nothing").status, 404);
  auto page = httpGet(e.webPort, "/builders/compile/builds/1");
  EXPECT_TRUE(contains(page.body, "api/v2/builds/1/artifacts/app.bin")) << page.body;

  // keep: 1 — a second build's app.bin replaces the first one's.
  auto again = e.master.client({"force", "--scheduler", "force", "--builder", "compile", "--wait"}, 120s);
  ASSERT_EQ(again.rc, 0) << again.describe();
  EXPECT_FALSE(fileExists(stored));
  EXPECT_TRUE(fileExists(e.master.dir() + "/artifacts/compile/2/app.bin"));
  EXPECT_TRUE(fileExists(e.master.dir() + "/artifacts/compile/1/dist")) << "keep applies to its own step's name only";
}

// VmRSS of a process in bytes (0 once it is gone).
std::int64_t residentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

// ASan keeps freed memory in a quarantine (256 MB by default) to catch a
// use after free; a resident-memory bound would count that as growth. In
// the sanitizer build the daemons this test starts get a small quarantine
// (their allocations are still checked); restored afterwards.
struct ArtifactsAsanQuarantine {
#if defined(__SANITIZE_ADDRESS__)
  std::optional<std::string> old;
  ArtifactsAsanQuarantine() {
    if (const char* v = std::getenv("ASAN_OPTIONS")) old = v;
    const std::string prefix = old && !old->empty() ? *old + ":" : "";
    ::setenv("ASAN_OPTIONS", (prefix + "quarantine_size_mb=4:thread_local_quarantine_size_kb=64").c_str(), 1);
  }
  ~ArtifactsAsanQuarantine() {
    if (old) ::setenv("ASAN_OPTIONS", old->c_str(), 1);
    else ::unsetenv("ASAN_OPTIONS");
  }
#endif
};

TEST(Artifacts, A200MBDirectoryGoesThroughWhileMemoryStaysFlat) {
  [[maybe_unused]] ArtifactsAsanQuarantine smallQuarantine;
  ArtifactEnv e;
  const std::map<std::string, pid_t> pids{{"master", e.master.pid()}, {"s1", e.s1.pid()}, {"s2", e.s2.pid()}};
  std::map<std::string, std::int64_t> before, peak;
  for (const auto& [name, pid] : pids) before[name] = peak[name] = residentBytes(pid);
  // Sampled all through the build: the upload, the archive's check and
  // the download of 200 MB (a memory bound, not a timing one).
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      for (const auto& [name, pid] : pids) peak[name] = std::max(peak[name], residentBytes(pid));
      std::this_thread::sleep_for(10ms);
    }
  });
  auto f = e.master.client({"force", "--scheduler", "force", "--builder", "big", "--wait"}, 300s);
  done = true;
  sampler.join();
  ASSERT_EQ(f.rc, 0) << f.describe() << e.show("big", 1) << e.show("bigtest", 1);
  ASSERT_EQ(e.result("bigtest", 1), kSuccess) << e.show("bigtest", 1);
  const std::string check = e.show("bigtest", 1);
  EXPECT_TRUE(contains(check, "a: OK")) << check;
  EXPECT_TRUE(contains(check, "sub/b: OK")) << check;
  auto size = sqlite(e.master.dbPath(), "SELECT size FROM artifacts WHERE name = 'big'");
  ASSERT_EQ(size.size(), 1u);
  EXPECT_GT(std::stoll(size[0][0]), 200LL * 1024 * 1024);
  for (const auto& [name, pid] : pids) {
    std::printf("%s: resident %lld -> peak %lld KiB\n", name.c_str(), static_cast<long long>(before[name] >> 10),
                static_cast<long long>(peak[name] >> 10));
    EXPECT_GT(before[name], 0) << name;
    EXPECT_LT(peak[name] - before[name], std::int64_t{64} << 20)
        << name << ": resident memory grew from " << before[name] << " to " << peak[name] << " bytes";
  }
}

TEST(Artifacts, AnUnsafeNameIsRefusedWithALogLine) {
  ArtifactEnv e;
  auto f = e.master.client({"force", "--scheduler", "force", "--builder", "named", "--property", "aname:../evil",
                            "--wait"});
  EXPECT_NE(f.rc, 0);
  EXPECT_EQ(e.result("named", 1), kFailure);
  const std::string status = e.show("named", 1);
  EXPECT_TRUE(contains(status, "refused: artifact name '../evil' must be one file name")) << status;
  EXPECT_FALSE(fileExists(e.master.dir() + "/artifacts/evil"));
  EXPECT_FALSE(fileExists(e.master.dir() + "/artifacts/named/evil"));
  EXPECT_TRUE(sqlite(e.master.dbPath(), "SELECT id FROM artifacts").empty());
}

TEST(Artifacts, ASlaveKilledDuringAnUploadEndsRetryAndLeavesNothing) {
  ArtifactEnv e;
  auto f = e.master.client({"force", "--scheduler", "force", "--builder", "slow"});
  ASSERT_EQ(f.rc, 0) << f.describe();
  const std::string dir = e.master.dir() + "/artifacts/slow/1";
  // Kill the slave once the master has part of the file.
  ASSERT_TRUE(waitFor([&] { return !partials(dir).empty() && std::filesystem::file_size(partials(dir)[0]) > 0; },
                      60s, 20ms))
      << e.master.log();
  e.s1.kill();
  ASSERT_TRUE(waitFor([&] { return e.result("slow", 1) != -1; }, 60s)) << e.master.log();
  EXPECT_EQ(e.result("slow", 1), kRetry) << e.show("slow", 1);
  EXPECT_TRUE(partials(e.master.dir() + "/artifacts").empty());
  EXPECT_FALSE(fileExists(dir + "/big"));
  EXPECT_TRUE(sqlite(e.master.dbPath(), "SELECT id FROM artifacts").empty());
  EXPECT_TRUE(contains(e.show("slow", 1), "nothing was stored")) << e.show("slow", 1);
}

}  // namespace
}  // namespace bb::test
