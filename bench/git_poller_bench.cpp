// The git poller on a large repository: COMMITS commits (made with
// git fast-import) and BRANCHES branches, watched by one git_poller with a
// pattern. Reports the time of a poll when nothing changed (the poller's
// own last_poll_ms, several polls), then NEW commits on one branch: the
// time until all are changes and the master's CPU per new commit (its own,
// and with the git processes it ran).
// Usage: git_poller_bench [COMMITS (100000)] [BRANCHES (50)] [NEW (1000)]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"

using namespace bb::test;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace {

// A fast-import stream of `count` commits on refs/heads/BRANCH, each
// changing one of 100 files; `from` is the parent ("" for a root).
std::string stream(const std::string& branch, int first, int count, const std::string& from) {
  std::ostringstream out;
  for (int i = first; i < first + count; ++i) {
    const std::string content = "line " + std::to_string(i) + "\n";
    const std::string msg = "commit " + std::to_string(i) + "\n";
    out << "commit refs/heads/" << branch << "\nmark :" << (i + 1) << "\n"
        << "committer Bench <bench@example.org> " << (1700000000 + i) << " +0000\n"
        << "data " << msg.size() << "\n" << msg;
    if (i == first && !from.empty()) out << "from " << from << "\n";
    out << "M 100644 inline src/f" << (i % 100) << ".txt\ndata " << content.size() << "\n" << content << "\n";
  }
  return out.str();
}

void fastImport(const std::string& repo, const std::string& text) {
  const std::string path = repo + "/../import.txt";
  std::ofstream(path) << text;
  if (std::system(("git -C '" + repo + "' fast-import --quiet < '" + path + "'").c_str()) != 0)
    throw std::runtime_error("git fast-import failed");
}

// User+system CPU of `pid` and of the children it has waited for.
double cpuWithChildren(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(s.substr(s.rfind(')') + 2));
  std::vector<std::string> f;
  std::string field;
  while (rest >> field) f.push_back(field);
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(f[11]) + std::stod(f[12]) + std::stod(f[13]) + std::stod(f[14])) / ticks;
}

}  // namespace

int main(int argc, char** argv) {
  const int commits = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int branches = argc > 2 ? std::atoi(argv[2]) : 50;
  const int fresh = argc > 3 ? std::atoi(argv[3]) : 1000;
  if (commits < 100 || commits > 1000000 || branches < 1 || branches > 1000 || fresh < 1 || fresh > 100000) {
    std::fprintf(stderr, "usage: git_poller_bench [COMMITS 100..1000000] [BRANCHES 1..1000] [NEW 1..100000]\n");
    return 2;
  }
  TempDir tmp("bb-bench-gitpoller");
  GitRepo repo(tmp.sub("repo"));
  repo.init();
  auto t0 = std::chrono::steady_clock::now();
  // main, and branches at points spread over its history.
  std::string text = stream("main", 0, commits, "");
  for (int b = 0; b < branches; ++b)
    text += "reset refs/heads/b" + std::to_string(b) + "\nfrom :" +
            std::to_string(commits - b * (commits / (branches + 1))) + "\n\n";
  fastImport(repo.path(), text);
  std::printf("repository: %d commits, %d branches + main, made in %.1f s\n", commits, branches,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  master.writeConfig("master: {name: bench, slave_port: " + std::to_string(master.port()) + "}\n"
                     "users: [{name: bench, password: \"" + v + "\", may: [status]}]\n"
                     "change_sources: [{name: big, type: git_poller, repo: \"" + repo.path() +
                     "\", branches: [main, \"b*\"], interval: 1}]\n");
  master.setAuth("bench", "pw");
  t0 = std::chrono::steady_clock::now();
  master.start();
  if (!master.waitForLog("watching main", 600s)) {
    std::fprintf(stderr, "the first poll did not finish:\n%s\n", master.log().c_str());
    return 1;
  }
  std::printf("first poll (mirror clone of everything): %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  auto source = [&] {
    const CmdResult st = master.client({"status", "--json"});
    return Json::parse(st.out).at("change_sources").at(0);
  };
  std::vector<double> idle;
  std::int64_t seen = source()["polls"].get<std::int64_t>();
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (idle.size() < 10 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(200ms);
    const Json s = source();
    if (s["polls"].get<std::int64_t>() > seen && !s["polling"].get<bool>()) {
      seen = s["polls"].get<std::int64_t>();
      idle.push_back(s["last_poll_ms"].get<double>());
    }
  }
  std::printf("a poll when nothing changed (%zu polls): p50 %.1f ms, max %.1f ms\n", idle.size(),
              bb::bench::percentile(idle, 50), bb::bench::percentile(idle, 100));

  const std::string tip = repo.git({"rev-parse", "b0"});
  const double cpu0 = bb::bench::cpuSeconds(master.pid()), all0 = cpuWithChildren(master.pid());
  t0 = std::chrono::steady_clock::now();
  fastImport(repo.path(), stream("b0", commits, fresh, tip.substr(0, 40)));
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < t0 + 600s) {
    std::this_thread::sleep_for(100ms);
    done = sqlite(master.dbPath(), "SELECT COUNT(*) FROM changes")[0][0] == std::to_string(fresh);
  }
  if (!done) {
    std::fprintf(stderr, "the new commits did not all become changes:\n%s\n", master.log().c_str());
    return 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = bb::bench::cpuSeconds(master.pid()) - cpu0, all = cpuWithChildren(master.pid()) - all0;
  std::printf("%d new commits on b0: all changes after %.2f s; master CPU %.3f ms per commit (%.3f ms with git); "
              "master peak RSS %.1f MiB\n",
              fresh, secs, cpu * 1000 / fresh, all * 1000 / fresh, bb::bench::memoryMiB(master.pid()));
  return 0;
}
