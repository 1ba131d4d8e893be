// Connection scale benchmark: N idle slaves logged in to one master.
// One driver process (this one, one io_context) opens N connections to
// 127.0.0.1, logs each in as slave sI (SCRAM, ClientLogin), sends
// SlaveInfo, answers Ping with Pong and otherwise stays idle; the
// Connection sends heartbeats by itself. Reports the time from the first
// connect to all N logged in, master RSS per connected slave (VmRSS before
// vs after) and master CPU at rest (heartbeats only) over 30 s.
// Usage: connection_scale_bench [N...]   (default: 2000 10000)
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "bench/bench_util.hpp"
#include "common/connection.hpp"
#include "common/login.hpp"
#include "common/message.hpp"
#include "tests/functional/harness.hpp"

using namespace bb;
using namespace bb::test;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr int kInFlight = 200;              // logins under way at once
constexpr auto kRest = 30s;                 // idle period measured for CPU
constexpr int kHeartbeatInterval = 10;      // seconds, master config
constexpr int kHeartbeatTimeout = 30;

struct Figures {
  int n = 0, loggedIn = 0, failed = 0, dbConnected = 0, droppedAtRest = 0;
  double loginSeconds = 0, rss0MiB = 0, rss1MiB = 0, kibPerSlave = 0;
  double masterCpuLogin = 0, driverCpuLogin = 0, restCpuPct = 0, driverRestCpuPct = 0;
  long pings = 0;
  std::string firstError;
};

double selfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// One simulated slave.
struct FakeSlave {
  int index = 0;
  std::string name;
  std::shared_ptr<Connection> conn;
  std::unique_ptr<ClientLogin> login;
  bool loggedIn = false, done = false, closed = false;
};

class Driver {
 public:
  Driver(boost::asio::io_context& io, int port, int n, std::string password)
      : io_(io), port_(static_cast<std::uint16_t>(port)), password_(std::move(password)) {
    for (int i = 1; i <= n; ++i) {
      auto s = std::make_unique<FakeSlave>();
      s->index = i;
      s->name = "s" + std::to_string(i);
      slaves_.push_back(std::move(s));
    }
  }

  // Opens all connections with at most kInFlight logins at once; returns
  // when all are logged in or failed, or `deadline` passes.
  void loginAll(SteadyClock::time_point deadline) {
    launchMore();
    while (finished_ < static_cast<int>(slaves_.size()) && SteadyClock::now() < deadline)
      io_.run_for(50ms);
  }

  // Keeps the connections serviced (heartbeats, pings) for `d`.
  void idle(std::chrono::milliseconds d) {
    const auto end = SteadyClock::now() + d;
    while (SteadyClock::now() < end) io_.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min<SteadyClock::duration>(end - SteadyClock::now(), 200ms)));
  }

  void closeAll() {
    for (auto& s : slaves_)
      if (s->conn) s->conn->close("benchmark finished");
    io_.run_for(500ms);
  }

  int loggedIn() const { return loggedIn_; }
  int failed() const { return failed_; }
  int closedAfterLogin() const { return closedAfterLogin_; }
  long pings() const { return pings_; }
  const std::string& firstError() const { return firstError_; }
  SteadyClock::time_point firstConnect() const { return firstConnect_; }
  SteadyClock::time_point lastLogin() const { return lastLogin_; }

 private:
  void launchMore() {
    while (inFlight_ < kInFlight && next_ < slaves_.size()) {
      FakeSlave* s = slaves_[next_++].get();
      ++inFlight_;
      if (next_ == 1) firstConnect_ = SteadyClock::now();
      Connection::connect(io_, "127.0.0.1", port_, ConnectionOptions{},
                          [this, s](std::shared_ptr<Connection> conn, const std::string& err) {
                            if (!conn) {
                              fail(s, err);
                              return;
                            }
                            s->conn = std::move(conn);
                            s->login = std::make_unique<ClientLogin>("slave", s->name, password_);
                            s->conn->start([this, s](Message&& m) { onMessage(s, std::move(m)); },
                                           [this, s](const std::string& reason) { onClose(s, reason); });
                            s->conn->send(s->login->hello());
                          });
    }
  }

  void onMessage(FakeSlave* s, Message&& m) {
    if (s->loggedIn) {
      if (m.type == MsgType::Ping) {
        ++pings_;
        s->conn->send(MsgType::Pong, Json{{"id", m.body.contains("id") ? m.body["id"] : Json()}});
      }
      return;  // Heartbeat and anything else: stay idle
    }
    ClientLogin::Step step = s->login->onMessage(m);
    switch (step.kind) {
      case ClientLogin::Step::Send: s->conn->send(step.reply); break;
      case ClientLogin::Step::Wait: break;
      case ClientLogin::Step::Failed:
        if (step.hasReply) s->conn->send(step.reply);
        fail(s, step.error);
        s->conn->close("login failed");
        break;
      case ClientLogin::Step::Done: {
        s->loggedIn = true;
        s->login.reset();
        auto interval = optInt(step.welcome, "heartbeat_interval_ms");
        auto timeout = optInt(step.welcome, "heartbeat_timeout_ms");
        if (interval && timeout && *interval > 0 && *timeout > *interval)
          s->conn->setHeartbeat(std::chrono::milliseconds(*interval), std::chrono::milliseconds(*timeout));
        s->conn->send(MsgType::SlaveInfo, Json{{"host", "bench"},
                                               {"os", "Linux"},
                                               {"cpus", 1},
                                               {"version", "bench"},
                                               {"basedir", "/tmp/bench/" + s->name}});
        ++loggedIn_;
        lastLogin_ = SteadyClock::now();
        finish(s);
        break;
      }
    }
  }

  void onClose(FakeSlave* s, const std::string& reason) {
    s->closed = true;
    if (s->loggedIn) {
      ++closedAfterLogin_;
      if (firstError_.empty()) firstError_ = s->name + " closed after login: " + reason;
    } else {
      fail(s, "closed during login: " + reason);
    }
  }

  void fail(FakeSlave* s, const std::string& err) {
    if (s->done) return;
    ++failed_;
    if (firstError_.empty()) firstError_ = s->name + ": " + err;
    finish(s);
  }

  void finish(FakeSlave* s) {
    if (s->done) return;
    s->done = true;
    --inFlight_;
    ++finished_;
    launchMore();
  }

  boost::asio::io_context& io_;
  std::uint16_t port_;
  std::string password_;
  std::vector<std::unique_ptr<FakeSlave>> slaves_;
  std::size_t next_ = 0;
  int inFlight_ = 0, finished_ = 0, loggedIn_ = 0, failed_ = 0, closedAfterLogin_ = 0;
  long pings_ = 0;
  std::string firstError_;
  SteadyClock::time_point firstConnect_{}, lastLogin_{};
};

int dbConnected(const MasterProcess& master) {
  auto rows = sqlite(master.dbPath(), "SELECT count(*) FROM slaves WHERE connected=1");
  return rows.empty() ? 0 : std::stoi(rows[0][0]);
}

Figures runOnce(int n, const std::string& verifier) {
  TempDir tmp("bb-bench-conn");
  MasterProcess master(tmp.sub("master"));
  std::ostringstream y;
  y << "master: {name: bench, slave_port: " << master.port()
    << ", database: \"sqlite:state.sqlite\", heartbeat_interval: " << kHeartbeatInterval
    << ", heartbeat_timeout: " << kHeartbeatTimeout
    << ", tls: false}\n"  // the in-process peers connect with plain TCP
    << "slaves:\n";
  for (int i = 1; i <= n; ++i) y << "  - {name: s" << i << ", password: \"" << verifier << "\"}\n";
  y << "builders:\n  - name: b\n    slaves: [s1]\n    steps: [{shell: {command: \"true\"}}]\n";
  master.create();
  master.writeConfig(y.str());
  master.start(120s);
  const pid_t pid = bench::readPid(master.dir() + "/buildmaster.pid");
  std::this_thread::sleep_for(1s);  // let startup settle before the baseline

  Figures f;
  f.n = n;
  f.rss0MiB = bench::memoryMiB(pid, "VmRSS:");
  const double mcpu0 = bench::cpuSeconds(pid), dcpu0 = selfCpuSeconds();

  boost::asio::io_context io;
  Driver driver(io, master.port(), n, "pw");
  driver.loginAll(SteadyClock::now() + 60s + std::chrono::milliseconds(20) * n);
  f.loggedIn = driver.loggedIn();
  f.failed = driver.failed();
  f.loginSeconds = std::chrono::duration<double>(driver.lastLogin() - driver.firstConnect()).count();
  f.masterCpuLogin = bench::cpuSeconds(pid) - mcpu0;
  f.driverCpuLogin = selfCpuSeconds() - dcpu0;

  // The master records each login and each SlaveInfo in its database;
  // wait (servicing the connections) until it shows every slave.
  for (int i = 0; i < 300 && (f.dbConnected = dbConnected(master)) < f.loggedIn; ++i) driver.idle(100ms);
  f.rss1MiB = bench::memoryMiB(pid, "VmRSS:");
  if (f.loggedIn > 0) f.kibPerSlave = (f.rss1MiB - f.rss0MiB) * 1024.0 / f.loggedIn;

  // At rest: only heartbeats (and pings, if any) flow.
  const double rcpu0 = bench::cpuSeconds(pid), rdcpu0 = selfCpuSeconds();
  const auto r0 = SteadyClock::now();
  driver.idle(kRest);
  const double restSecs = std::chrono::duration<double>(SteadyClock::now() - r0).count();
  f.restCpuPct = (bench::cpuSeconds(pid) - rcpu0) * 100.0 / restSecs;
  f.driverRestCpuPct = (selfCpuSeconds() - rdcpu0) * 100.0 / restSecs;
  f.droppedAtRest = driver.closedAfterLogin();
  f.dbConnected = dbConnected(master);
  f.pings = driver.pings();
  f.firstError = driver.firstError();

  driver.closeAll();
  master.stop();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i) counts.push_back(std::atoi(argv[i]));
  if (counts.empty()) counts = {2000, 10000};

  // The master inherits this limit: raise the soft limit to the hard one
  // before any master starts.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) std::perror("setrlimit(RLIMIT_NOFILE)");
  getrlimit(RLIMIT_NOFILE, &rl);
  const long limit = rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : static_cast<long>(rl.rlim_cur);
  const int maxN = static_cast<int>(std::max(1L, limit - 100));
  std::printf("RLIMIT_NOFILE: %ld (each side needs one descriptor per slave; N capped at %d)\n", limit, maxN);

  std::string verifier;
  try {
    verifier = makeVerifier("pw");  // once: PBKDF2 is slow
  } catch (const std::exception& e) {
    std::fprintf(stderr, "connection_scale_bench: %s\n", e.what());
    return 1;
  }

  std::vector<Figures> all;
  int rc = 0;
  for (int n : counts) {
    if (n > maxN) {
      std::printf("N=%d exceeds what RLIMIT_NOFILE %ld allows; capping at %d\n", n, limit, maxN);
      n = maxN;
    }
    try {
      Figures f = runOnce(n, verifier);
      all.push_back(f);
      if (f.loggedIn < n || f.dbConnected < n || f.droppedAtRest > 0) {
        std::printf("N=%d: %d logged in, %d failed, %d connected in the master's db after rest, %d dropped "
                    "at rest; first error: %s\n",
                    n, f.loggedIn, f.failed, f.dbConnected, f.droppedAtRest, f.firstError.c_str());
        rc = 1;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "connection_scale_bench with N=%d failed: %s\n", n, e.what());
      rc = 1;
    }
  }
  std::printf("%-7s %-9s %-9s %-10s %-9s %-9s %-10s %-11s %-11s %-12s %-11s %-6s\n", "N", "logged", "db conn",
              "login s", "logins/s", "RSS0 MiB", "RSS1 MiB", "KiB/slave", "mCPU login", "dCPU login",
              "rest mCPU%", "pings");
  for (const auto& f : all)
    std::printf("%-7d %-9d %-9d %-10.2f %-9.0f %-9.1f %-10.1f %-11.1f %-11.2f %-12.2f %-11.2f %-6ld\n", f.n,
                f.loggedIn, f.dbConnected, f.loginSeconds, f.loginSeconds > 0 ? f.loggedIn / f.loginSeconds : 0,
                f.rss0MiB, f.rss1MiB, f.kibPerSlave, f.masterCpuLogin, f.driverCpuLogin, f.restCpuPct, f.pings);
  for (const auto& f : all)
    std::printf("N=%d: driver CPU at rest %.2f%% of one core\n", f.n, f.driverRestCpuPct);
  return rc;
}
