// buildbot try, timed on an idle master with real processes:
//  1. the time from starting `buildbot try` (a git clone with a local
//     commit and an uncommitted change) to the build's first step running
//     on the slave, over each path: --connect local (tryserver into the job
//     directory), --connect ssh (through a real sshd on 127.0.0.1, when
//     /usr/sbin/sshd exists) and --connect master (try_userpass over the
//     client protocol). The step writes the wall clock (date +%s%N).
//  2. JOBS job files (default 1000) written to tmp/ and renamed into new/
//     at once: how fast the try_jobdir scheduler turns them into BuildSets
//     (jobs/s), then that every one is built exactly once.
// Usage: try_bench [RUNS_PER_PATH] [JOBS]
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "bench/bench_util.hpp"
#include "common/try_job.hpp"

using namespace bb;
using namespace bb::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    auto nl = s.find('\n', at);
    if (nl == std::string::npos) nl = s.size();
    if (nl > at) out.push_back(s.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

int count(const MasterProcess& m, const std::string& sql) { return std::stoi(sqlite(m.dbPath(), sql)[0][0]); }

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  const int jobs = argc > 2 ? std::atoi(argv[2]) : 1000;
  if (runs < 1 || runs > 200 || jobs < 1 || jobs > 20000) {
    std::fprintf(stderr, "usage: try_bench [RUNS 1..200] [JOBS 1..20000]\n");
    return 2;
  }
  TempDir tmp("bb-bench-try");
  GitRepo origin(tmp.sub("origin"));
  origin.init();
  origin.commit("main.txt", "one\n", "first");
  const std::string dev = tmp.sub("dev");
  run({"git", "clone", "--quiet", origin.path(), dev});
  GitRepo d(dev);
  d.git({"config", "user.name", "Dev"});
  d.git({"config", "user.email", "dev@example.org"});
  d.commit("feature.txt", "feature\n", "local");
  writeFile(dev + "/main.txt", "two\n");
  const std::string stamps = tmp.sub("stamps");
  const std::string jobdir = tmp.sub("master/jobs");
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  master.writeConfig("master: {name: bench, slave_port: " + std::to_string(master.port()) + "}\n"
                     "slaves: [{name: s1, password: \"" + v + "\", max_builds: 8}]\n"
                     "users: [{name: bench, password: \"" + v + "\", may: [try, status]}]\n"
                     "builders:\n  - name: stamp\n    slaves: [s1]\n"
                     "    steps: [{shell: {name: stamp, command: \"date +%s%N >> " + stamps + "\"}}]\n"
                     "  - name: noop\n    slaves: [s1]\n"
                     "    steps: [{shell: {name: noop, command: [\"true\"]}}]\n"
                     "schedulers:\n"
                     "  - {name: jd, type: try_jobdir, jobdir: jobs, builders: [stamp, noop]}\n"
                     "  - {name: up, type: try_userpass, builders: [stamp]}\n");
  master.setAuth("bench", "pw");
  master.start();
  SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "pw");
  slave.create();
  slave.start();
  if (!master.waitForLog("slave s1 connected", 30s)) {
    std::fprintf(stderr, "slave did not connect:\n%s\n", master.log().c_str());
    return 1;
  }

  // An sshd for the ssh path, as tests/functional/try_test.cpp runs it.
  const bool haveSshd = fs::exists("/usr/sbin/sshd");
  ChildProcess sshd;
  std::string sshOptions;
  if (haveSshd) {
    const int port = freePort();
    std::error_code ec;
    fs::create_directories("/run/sshd", ec);
    run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", tmp.sub("host_key")});
    run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", tmp.sub("user_key")});
    writeFile(tmp.sub("authorized_keys"), readFile(tmp.sub("user_key.pub")));
    writeFile(tmp.sub("known_hosts"), "[127.0.0.1]:" + std::to_string(port) + " " + readFile(tmp.sub("host_key.pub")));
    writeFile(tmp.sub("sshd_config"), "ListenAddress 127.0.0.1\nPort " + std::to_string(port) + "\nHostKey " +
                                          tmp.sub("host_key") + "\nAuthorizedKeysFile " + tmp.sub("authorized_keys") +
                                          "\nStrictModes no\nPermitRootLogin yes\nUsePAM no\nPidFile " +
                                          tmp.sub("sshd.pid") + "\n");
    ::chmod(tmp.sub("host_key").c_str(), 0600);
    sshd.start({"/usr/sbin/sshd", "-D", "-e", "-f", tmp.sub("sshd_config")}, tmp.sub("sshd.log"));
    sshOptions = "-F /dev/null -p " + std::to_string(port) + " -i " + tmp.sub("user_key") +
                 " -o UserKnownHostsFile=" + tmp.sub("known_hosts") + " -o StrictHostKeyChecking=yes -o BatchMode=yes";
    waitFor([&] { return readFile(tmp.sub("sshd.log")).find("listening on") != std::string::npos; }, 10s);
  }

  struct Path {
    const char* name;
    std::vector<std::string> args;
  };
  std::vector<Path> paths = {{"local", {"--connect", "local", "--jobdir", jobdir}},
                             {"master", {"--connect", "master", "--scheduler", "up"}}};
  if (haveSshd)
    paths.insert(paths.begin() + 1, Path{"ssh", {"--connect", "ssh", "--host", "127.0.0.1", "--username", "root",
                                                 "--jobdir", jobdir, "--buildbotbin", BB_BIN_CLIENT}});
  std::printf("try to build start on an idle master, %d runs per path (git clone, %zu patch bytes):\n", runs,
              d.git({"diff", "--binary", origin.head()}).size());
  for (const auto& p : paths) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      const std::size_t before = lines(readFile(stamps)).size();
      std::vector<std::string> a = {BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master.port()),
                                    "--master-fingerprint", master.fingerprint(), "try", "-b", "stamp", "--quiet"};
      a.insert(a.end(), p.args.begin(), p.args.end());
      const std::int64_t t0 = nowNs();
      const CmdResult r = run(a, dev,
                              {{"HOME", tmp.path()}, {"BUILDBOT_MASTER", ""}, {"BUILDBOT_AUTH", "bench:pw"},
                               {"BUILDBOT_TRY_SSH_OPTIONS", sshOptions}},
                              60s);
      if (r.rc != 0) {
        std::fprintf(stderr, "try over %s failed:\n%s\n", p.name, r.describe().c_str());
        return 1;
      }
      if (!waitFor([&] { return lines(readFile(stamps)).size() > before; }, 60s, 2ms)) {
        std::fprintf(stderr, "no build started over %s\n%s\n", p.name, master.log().c_str());
        return 1;
      }
      ms.push_back(static_cast<double>(std::stoll(lines(readFile(stamps)).back()) - t0) / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("  %-6s p50 %.0f ms, p90 %.0f ms, min %.0f ms, max %.0f ms\n", p.name, bench::percentile(ms, 50),
                bench::percentile(ms, 90), ms.front(), ms.back());
  }
  if (!waitFor([&] { return count(master, "SELECT count(*) FROM buildsets WHERE complete = 0") == 0; }, 60s)) return 1;

  // 2. JOBS job files at once.
  const int before = count(master, "SELECT count(*) FROM buildsets");
  TryJob job;
  job.branch = "main";
  job.baseRevision = origin.head();
  job.builders = {"noop"};
  job.patch = d.git({"diff", "--binary", origin.head()});
  std::vector<std::string> names;
  for (int i = 0; i < jobs; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "bulk-%05d", i);
    job.jobId = name;
    names.push_back(name);
    writeFile(jobdir + "/tmp/" + name, formatTryJob(job));
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& n : names) fs::rename(jobdir + "/tmp/" + n, jobdir + "/new/" + n);
  const bool taken = waitFor([&] { return count(master, "SELECT count(*) FROM buildsets") - before == jobs; }, 300s, 20ms);
  const double intake = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const bool built = taken && waitFor([&] {
    return count(master, "SELECT count(*) FROM builds WHERE builder = 'noop' AND finished = 1") >= jobs;
  }, 600s, 100ms);
  const double all = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Settle, then count: nothing may be built twice.
  std::this_thread::sleep_for(1s);
  const int bulkSets = count(master, "SELECT count(*) FROM buildset_patches WHERE try_job_id LIKE 'bulk-%'");
  const int noopBuilds = count(master, "SELECT count(*) FROM builds WHERE builder = 'noop'");
  const int ok = count(master, "SELECT count(*) FROM builds WHERE builder = 'noop' AND result = 0");
  int inCur = 0, inNew = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(jobdir + "/cur")) ++inCur;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(jobdir + "/new")) ++inNew;
  std::printf("%d jobs renamed into new/ at once: all BuildSets in %.2f s (%.0f jobs/s); all built in %.1f s "
              "(%.0f builds/s, one slave, max_builds 8)\n",
              jobs, intake, jobs / intake, all, jobs / all);
  std::printf("  BuildSets %d, builds %d (successful %d), left in new/ %d; built once each: %s\n", bulkSets,
              noopBuilds, ok, inNew, bulkSets == jobs && noopBuilds == jobs && ok == jobs && inNew == 0 ? "yes" : "NO");
  (void)inCur;
  return taken && built && bulkSets == jobs && noopBuilds == jobs ? 0 : 1;
}
