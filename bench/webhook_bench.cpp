// Forge webhook throughput: N signed GitHub push deliveries (one commit
// each) POSTed to /change_hook/github by C client threads, each answered
// only after its change is committed. Reports requests/s, master CPU per
// request, that every change is stored exactly once, and that the same N
// deliveries sent again are all answered as duplicates.
// Usage: webhook_bench [REQUESTS (default 2000)] [CLIENTS (default 4)]
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "common/hmac.hpp"
#include "tests/functional/http_client.hpp"

using namespace bb::test;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace {

const char* kSecret = "bench-webhook-secret-0123456789";

std::string body(int i) {
  char rev[41];
  std::snprintf(rev, sizeof rev, "%040d", i + 1);
  return Json{{"ref", "refs/heads/main"},
              {"after", rev},
              {"repository", {{"full_name", "octo/app"}, {"clone_url", "https://github.example.org/octo/app.git"}}},
              {"commits",
               {{{"id", rev},
                 {"message", "commit " + std::to_string(i)},
                 {"timestamp", "2026-12-01T10:00:00Z"},
                 {"author", {{"name", "Bench"}, {"email", "bench@example.org"}}},
                 {"added", {"src/file" + std::to_string(i % 50) + ".c"}},
                 {"modified", {"README"}},
                 {"removed", Json::array()}}}}}
      .dump();
}

// Sends requests [from, to) and counts answers by kind.
void sendRange(int web, int from, int to, std::atomic<int>& accepted, std::atomic<int>& duplicates,
               std::atomic<int>& other) {
  for (int i = from; i < to; ++i) {
    HttpOptions o;
    o.body = body(i);
    o.headers = {{"Content-Type", "application/json"},
                 {"X-GitHub-Event", "push"},
                 {"X-GitHub-Delivery", "bench-" + std::to_string(i)},
                 {"X-Hub-Signature-256", "sha256=" + bb::hexEncode(bb::hmacSha256(kSecret, o.body))}};
    const HttpReply r = httpRequest(web, "POST", "/change_hook/github", o);
    if (r.status != 200) {
      ++other;
      continue;
    }
    const Json j = Json::parse(r.body);
    if (j.contains("change_ids")) ++accepted;
    else if (j.value("duplicate", false)) ++duplicates;
    else ++other;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int clients = argc > 2 ? std::atoi(argv[2]) : 4;
  if (n < 1 || n > 100000 || clients < 1 || clients > 64) {
    std::fprintf(stderr, "usage: webhook_bench [REQUESTS 1..100000] [CLIENTS 1..64]\n");
    return 2;
  }
  TempDir tmp("bb-bench-webhook");
  MasterProcess master(tmp.sub("master"));
  const int web = freePort();
  master.create();
  std::ofstream(master.dir() + "/hook.secret") << kSecret;
  master.writeConfig("master: {name: bench, slave_port: " + std::to_string(master.port()) +
                     ", web_port: " + std::to_string(web) + "}\n"
                     "secrets: {hook: {file: hook.secret}}\n"
                     "change_sources: [{name: github, type: github_webhook, secret: \"%(secret:hook)s\"}]\n");
  master.start();
  if (!master.waitForLog("web: serving on", 30s)) {
    std::fprintf(stderr, "web server did not start:\n%s\n", master.log().c_str());
    return 1;
  }
  auto run = [&](const char* what) {
    std::atomic<int> accepted{0}, duplicates{0}, other{0};
    const double cpu0 = bb::bench::cpuSeconds(master.pid());
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back(sendRange, web, n * c / clients, n * (c + 1) / clients, std::ref(accepted),
                           std::ref(duplicates), std::ref(other));
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = bb::bench::cpuSeconds(master.pid()) - cpu0;
    std::printf("%s: %d requests, %d clients: %.2f s, %.0f requests/s, master CPU %.3f ms per request; "
                "accepted %d, duplicates %d, other %d\n",
                what, n, clients, secs, n / secs, cpu * 1000 / n, accepted.load(), duplicates.load(), other.load());
    return std::array<int, 3>{accepted.load(), duplicates.load(), other.load()};
  };
  const auto first = run("new deliveries");
  const auto again = run("the same deliveries again");
  const auto rows = sqlite(master.dbPath(), "SELECT COUNT(*), COUNT(DISTINCT revision) FROM changes");
  std::printf("changes stored: %s (distinct revisions %s); master peak RSS %.1f MiB\n", rows[0][0].c_str(),
              rows[0][1].c_str(), bb::bench::memoryMiB(master.pid()));
  const bool ok = first[0] == n && again[1] == n && rows[0][0] == std::to_string(n) && rows[0][1] == rows[0][0];
  if (!ok) std::fprintf(stderr, "MISMATCH: every delivery must be stored exactly once\n");
  return ok ? 0 : 1;
}
