// The web server's figures, against a real buildmaster on 127.0.0.1:
//  list:     GET a page of builds (and a filtered one) with N builds stored
//            (default 100,000, written through the database layer before
//            the master starts), and the waterfall page: requests/s and
//            latency percentiles from `wrk` (Debian's package).
//  log:      the raw download of one stored log of M MB (default 100):
//            the master's peak RSS growth while it streams it.
//  idle:     K idle Server-Sent-Events clients on /api/v2/events (default
//            1,000): master RSS before and with them, CPU at rest.
//  dispatch: D sendchanges making D no-op builds on 4 slaves, with no SSE
//            client, with W clients watching every event (default 20), and
//            with none again: builds/s of each.
// Usage: web_bench [--builds=N] [--log-mb=M] [--idle=K] [--dispatch=D]
//                  [--watchers=W] [--wrk-seconds=S] [PART...]
// (PART: list, log, idle, dispatch; default all). See docs/performance.md.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "bench/bench_util.hpp"
#include "client/master_client.hpp"
#include "master/db/database.hpp"
#include "tests/functional/harness.hpp"

using namespace bb;
using namespace bb::test;
using namespace std::chrono_literals;

namespace {

struct Options {
  int builds = 100000, logMb = 100, idle = 1000, dispatch = 1000, watchers = 20, wrkSeconds = 10;
  std::set<std::string> parts;
  bool wants(const std::string& p) const { return parts.empty() || parts.count(p); }
};

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A connected blocking socket to 127.0.0.1:port, -1 on failure.
int connectTo(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

// Opens an event stream; returns the socket once the headers and the
// first `retry:` line came, -1 otherwise (within 10 s).
int openEventStream(int port) {
  const int fd = connectTo(port);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!sendAll(fd, "GET /api/v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")) {
    ::close(fd);
    return -1;
  }
  std::string got;
  char buf[4096];
  while (got.find("retry:") == std::string::npos) {
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0 || got.size() > 65536) {
      ::close(fd);
      return -1;
    }
    got.append(buf, static_cast<std::size_t>(r));
  }
  if (got.rfind("HTTP/1.1 200", 0) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// `wrk` for `seconds` on one URL: requests/s and latency percentiles.
struct WrkFigures {
  double rps = 0;
  std::string p50, p99, errors = "0";
  long requests = 0;
};

WrkFigures runWrk(int port, const std::string& path, int seconds, int connections) {
  const auto r = run({"wrk", "-t1", "-c" + std::to_string(connections), "-d" + std::to_string(seconds) + "s",
                      "--latency", "http://127.0.0.1:" + std::to_string(port) + path});
  if (r.rc != 0) throw std::runtime_error("wrk failed: " + r.describe());
  WrkFigures f;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string a, b;
    l >> a >> b;
    if (a == "Requests/sec:") f.rps = std::stod(b);
    else if (a == "50%") f.p50 = b;
    else if (a == "99%") f.p99 = b;
    else if (line.find("requests in") != std::string::npos) f.requests = std::stol(a);
    else if (a == "Non-2xx" || a == "Socket") f.errors = line;
  }
  return f;
}

// One master for `list`, `log` and `idle`: N builds over 10 builders (a
// BuildSet, request, build and one step each; every 7th a failure) and
// one step with an M MB stdio log, written before the master starts.
struct FilledMaster {
  TempDir tmp{"bb-web-bench"};
  MasterProcess master{tmp.sub("master")};
  int web = freePort();
  std::int64_t logId = 0;
  pid_t pid = 0;

  FilledMaster(const Options& o) {
    const std::string v = makeVerifier("pw");
    std::ostringstream y;
    y << "master: {name: bench, slave_port: " << master.port() << ", web_port: " << web
      << ", web_max_connections: " << o.idle + 100 << "}\n"
      << "slaves: [{name: s1, password: \"" << v << "\"}]\nbuilders:\n";
    for (int b = 0; b < 10; ++b)
      y << "  - {name: builder" << b << ", slaves: [s1], steps: [{shell: {name: test, command: [\"true\"]}}]}\n";
    master.create();
    master.writeConfig(y.str());
    const auto t0 = std::chrono::steady_clock::now();
    fill(o);
    std::printf("filled %d builds and a %d MB log in %.1f s\n", o.builds, o.logMb, secondsSince(t0));
    master.start();
    if (!master.waitForLog("web: serving on", 60s)) throw std::runtime_error("no web server:\n" + master.log());
    pid = bench::readPid(master.dir() + "/buildmaster.pid");
  }

  void fill(const Options& o) {
    db::Database d(master.dbPath(), db::OpenMode::MustExist);
    const std::int64_t now = std::time(nullptr) - o.builds - 3600;
    const auto id = d.registerMaster("bench", now);
    for (int i = 0; i < o.builds;) {
      d.transaction([&] {
        for (int k = 0; k < 1000 && i < o.builds; ++k, ++i) {
          const std::string builder = "builder" + std::to_string(i % 10);
          db::BuildsetRecord bs;
          bs.reason = "bench";
          bs.scheduler = "bench";
          bs.submittedAt = now + i;
          const auto brid = d.addBuildset(bs, {builder}, 0).second.at(builder);
          d.claimRequest(brid, id, now + i);
          const auto b = d.addBuild(id, brid, builder, "s1", now + i, Json::object());
          const Result r = i % 7 == 0 ? Result::Failure : Result::Success;
          const auto step = d.addStep(b.id, 1, "test", now + i);
          d.finishStep(step, r, "test", now + i);
          d.finishBuild(b.id, r, r == Result::Failure ? "failed test" : "build successful", now + i);
          d.completeRequest(brid, r, now + i);
        }
      });
    }
    // The log: numbered compiler-like lines, stored as ~64 KiB chunks.
    d.transaction([&] {
      const auto b = d.addBuild(id, 0, "builder0", "s1", now + o.builds, Json::object());
      const auto step = d.addStep(b.id, 1, "compile", now + o.builds);
      logId = d.addLog(step, "stdio");
      const std::size_t total = static_cast<std::size_t>(o.logMb) * 1000 * 1000;
      std::string chunk;
      for (std::size_t done = 0, line = 0; done < total; done += chunk.size()) {
        chunk.clear();
        for (; chunk.size() < 64 * 1024; ++line)
          chunk += "g++ -O2 -c src/module_" + std::to_string(line % 9973) + ".cpp -o obj/" +
                   std::to_string(line) + ".o\n";
        if (done + chunk.size() > total) chunk.resize(total - done);
        d.appendLog(logId, 0, chunk);
      }
      d.finishLog(logId);
      d.finishStep(step, Result::Success, "compile", now + o.builds);
      d.finishBuild(b.id, Result::Success, "build successful", now + o.builds);
    });
  }
};

void benchList(FilledMaster& m, const Options& o) {
  std::printf("\n== list: wrk -t1 -c8 -d%ds --latency, %d builds stored\n", o.wrkSeconds, o.builds);
  std::printf("%-58s %-10s %-9s %-9s %s\n", "path", "req/s", "p50", "p99", "errors");
  for (const std::string path : {"/api/v2/builds?limit=50", "/api/v2/builds?builder=builder3&results=2&limit=50",
                                 "/api/v2/builds?number__lt=100&order=-number&limit=20&field=buildid",
                                 "/waterfall"}) {
    const double cpu0 = bench::cpuSeconds(m.pid);
    const WrkFigures f = runWrk(m.web, path, o.wrkSeconds, 8);
    const double cpu = bench::cpuSeconds(m.pid) - cpu0;
    std::printf("%-58s %-10.1f %-9s %-9s %s (master %.2f ms CPU/request)\n", path.c_str(), f.rps, f.p50.c_str(),
                f.p99.c_str(), f.errors.c_str(), f.requests ? cpu * 1000.0 / static_cast<double>(f.requests) : 0.0);
  }
}

void benchLog(FilledMaster& m, const Options& o) {
  std::printf("\n== log: raw download of a %d MB log\n", o.logMb);
  std::ofstream("/proc/" + std::to_string(m.pid) + "/clear_refs") << "5";  // resets VmHWM
  const double rss0 = bench::memoryMiB(m.pid, "VmRSS:");
  const double hwm0 = bench::memoryMiB(m.pid, "VmHWM:");
  const int fd = connectTo(m.web);
  if (fd < 0) throw std::runtime_error("cannot connect");
  sendAll(fd, "GET /api/v2/logs/" + std::to_string(m.logId) + "/raw HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<char> buf(256 * 1024);
  std::size_t bytes = 0;
  for (ssize_t r; (r = ::recv(fd, buf.data(), buf.size(), 0)) > 0;) bytes += static_cast<std::size_t>(r);
  ::close(fd);
  const double secs = secondsSince(t0);
  const double hwm1 = bench::memoryMiB(m.pid, "VmHWM:");
  std::printf("%.1f MB received in %.2f s (%.0f MB/s); master RSS %.1f MiB before (peak reset to %.1f), "
              "peak %.1f MiB during: growth %.1f MiB\n",
              static_cast<double>(bytes) / 1e6, secs, static_cast<double>(bytes) / 1e6 / secs, rss0, hwm0, hwm1,
              hwm1 - rss0);
}

void benchIdle(FilledMaster& m, const Options& o) {
  std::printf("\n== idle: %d SSE clients on /api/v2/events\n", o.idle);
  const double rss0 = bench::memoryMiB(m.pid, "VmRSS:");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int> fds;
  for (int i = 0; i < o.idle; ++i) {
    const int fd = openEventStream(m.web);
    if (fd < 0) {
      std::printf("client %d could not open its stream; stopping at %zu\n", i + 1, fds.size());
      break;
    }
    fds.push_back(fd);
  }
  std::printf("%zu streams open in %.2f s\n", fds.size(), secondsSince(t0));
  std::this_thread::sleep_for(2s);
  const double rss1 = bench::memoryMiB(m.pid, "VmRSS:");
  const double cpu0 = bench::cpuSeconds(m.pid);
  constexpr int kRestSeconds = 30;
  std::this_thread::sleep_for(std::chrono::seconds(kRestSeconds));
  const double cpu = bench::cpuSeconds(m.pid) - cpu0;
  int open = 0;
  char c;
  for (int fd : fds) {
    const ssize_t r = ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) ++open;
  }
  std::printf("master RSS %.1f MiB before, %.1f MiB with them (%.1f KiB per client); CPU at rest %.3f s in %d s "
              "(%.2f %%); %d of %zu still open\n",
              rss0, rss1, (rss1 - rss0) * 1024.0 / static_cast<double>(std::max<std::size_t>(fds.size(), 1)), cpu,
              kRestSeconds, 100.0 * cpu / kRestSeconds, open, fds.size());
  for (int fd : fds) ::close(fd);
}

// W SSE clients on every event, read by one thread with poll(): they count
// the events and look for a `dropped` notice.
class SseWatchers {
 public:
  SseWatchers(int port, int n) {
    for (int i = 0; i < n; ++i)
      if (const int fd = openEventStream(port); fd >= 0) fds_.push_back(fd);
    thread_ = std::thread([this] { readAll(); });
  }
  ~SseWatchers() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : fds_) ::close(fd);
  }
  int open() const { return static_cast<int>(fds_.size()); }
  long events() const { return events_; }
  int dropped() const { return dropped_; }

 private:
  void readAll() {
    std::vector<pollfd> pfds;
    for (int fd : fds_) pfds.push_back(pollfd{fd, POLLIN, 0});
    std::vector<char> buf(256 * 1024);
    while (!stop_) {
      if (::poll(pfds.data(), pfds.size(), 100) <= 0) continue;
      for (auto& p : pfds) {
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t r = ::recv(p.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (r <= 0) {
          p.fd = -1;
          continue;
        }
        // Counts "\nid: " (one per event); a split across reads is lost,
        // which undercounts by a few at most.
        const std::string_view s(buf.data(), static_cast<std::size_t>(r));
        for (auto pos = s.find("id: "); pos != std::string_view::npos; pos = s.find("id: ", pos + 4))
          if (pos == 0 || s[pos - 1] == '\n') ++events_;
        if (s.find("event: dropped") != std::string_view::npos) ++dropped_;
      }
    }
  }
  std::vector<int> fds_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<long> events_{0};
  std::atomic<int> dropped_{0};
};

void benchDispatch(const Options& o) {
  constexpr int kSlaves = 4;
  std::printf("\n== dispatch: %d no-op builds on %d slaves, with and without %d SSE clients on every event\n",
              o.dispatch, kSlaves, o.watchers);
  TempDir tmp("bb-web-bench-dispatch");
  MasterProcess master(tmp.sub("master"));
  const int web = freePort();
  const std::string v = makeVerifier("pw");
  std::ostringstream y;
  y << "master: {name: bench, slave_port: " << master.port() << ", web_port: " << web << "}\nslaves:\n";
  for (int i = 1; i <= kSlaves; ++i) y << "  - {name: s" << i << ", password: \"" << v << "\", max_builds: 1}\n";
  y << "users: [{name: bench, password: \"" << v << "\", may: [sendchange, status]}]\n"
    << "builders:\n  - name: noop\n    slaves: [s1, s2, s3, s4]\n"
    << "    steps: [{shell: {name: noop, command: [\"true\"]}}]\n"
    << "schedulers: [{name: all, type: single_branch, branch: main, builders: [noop]}]\n";
  master.create();
  master.writeConfig(y.str());
  master.start();
  std::vector<std::unique_ptr<SlaveProcess>> procs;
  for (int i = 1; i <= kSlaves; ++i) {
    procs.push_back(std::make_unique<SlaveProcess>(tmp.sub("slave" + std::to_string(i)), master.port(),
                                                   "s" + std::to_string(i), "pw"));
    procs.back()->create();
    procs.back()->start();
  }
  for (int i = 1; i <= kSlaves; ++i)
    if (!master.waitForLog("slave s" + std::to_string(i) + " connected", 30s))
      throw std::runtime_error("slave did not connect:\n" + master.log());
  const pid_t pid = bench::readPid(master.dir() + "/buildmaster.pid");
  client::MasterClient c({"127.0.0.1", static_cast<std::uint16_t>(master.port())}, {"bench", "pw"},
                         bench::clientOptions(master));
  c.connect();
  int done = 0, rev = 0;
  auto runOnce = [&](const std::string& label) {
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = bench::cpuSeconds(pid);
    for (int i = 0; i < o.dispatch; ++i)
      c.call("sendchange", Json{{"author", "bench"}, {"branch", "main"}, {"revision", "r" + std::to_string(rev++)}});
    done += o.dispatch;
    const std::string sql = "SELECT count(*) FROM builds WHERE finished=1";
    if (!waitFor([&] { return std::stoi(sqlite(master.dbPath(), sql)[0][0]) >= done; }, 600s, 5ms))
      throw std::runtime_error("builds did not finish");
    const double secs = secondsSince(t0);
    std::printf("%-26s %5d builds in %6.2f s: %6.1f builds/s, master %.3f ms CPU/build\n", label.c_str(),
                o.dispatch, secs, o.dispatch / secs, (bench::cpuSeconds(pid) - cpu0) * 1000.0 / o.dispatch);
    return o.dispatch / secs;
  };
  const double before = runOnce("no SSE clients");
  double with = 0;
  {
    SseWatchers w(web, o.watchers);
    if (w.open() < o.watchers) throw std::runtime_error("not every SSE client got its stream");
    with = runOnce(std::to_string(w.open()) + " SSE clients");
    std::this_thread::sleep_for(1s);  // the last events reach them
    std::printf("SSE clients: %ld events read in all (%.0f each), %d dropped by the master\n", w.events(),
                static_cast<double>(w.events()) / w.open(), w.dropped());
  }
  const double after = runOnce("no SSE clients again");
  std::printf("with SSE clients: %.0f%% of the builds/s without them (mean of before and after)\n",
              100.0 * with / ((before + after) / 2));
  c.close();
  for (auto& s : procs) s->stop();
  master.stop();
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures show as they come
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto num = [&](const char* key, int& v) {
      const std::string k = std::string("--") + key + "=";
      if (a.rfind(k, 0) != 0) return false;
      v = std::stoi(a.substr(k.size()));
      return true;
    };
    if (num("builds", o.builds) || num("log-mb", o.logMb) || num("idle", o.idle) || num("dispatch", o.dispatch) ||
        num("watchers", o.watchers) || num("wrk-seconds", o.wrkSeconds))
      continue;
    if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
    o.parts.insert(a);
  }
  // Each idle client is a descriptor here and one in the master (which
  // inherits this limit).
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < static_cast<rlim_t>(o.idle) * 2 + 256) {
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, static_cast<rlim_t>(o.idle) * 2 + 256);
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) std::perror("setrlimit(RLIMIT_NOFILE)");
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  std::printf("RLIMIT_NOFILE %ld\n", static_cast<long>(rl.rlim_cur));
  try {
    if (o.wants("list") || o.wants("log") || o.wants("idle")) {
      FilledMaster m(o);
      if (o.wants("list")) benchList(m, o);
      if (o.wants("log")) benchLog(m, o);
      if (o.wants("idle")) benchIdle(m, o);
      m.master.stop();
    }
    if (o.wants("dispatch")) benchDispatch(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "web_bench failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
