// Dispatch with event subscribers: the dispatch of dispatch_bench (N
// sendchanges, N no-op builds on S slaves) run on one master with no
// subscriber, then ROUNDS times with K clients each subscribed to every
// event as `buildbot watch` is (compressed frames welcome; this process
// reads and counts them, one thread) followed by a run with none again. Each round's builds/s with
// the clients is compared with the runs without them on either side; the
// median of the rounds is the figure. Reports builds/s of each run, the
// master's and the whole machine's CPU per build, master RSS before and
// after the subscribers joined, events each subscriber got, and how many
// subscriptions the master dropped.
// Usage: event_subscribers_bench [BUILDS] [SLAVES] [SUBSCRIBERS] [ROUNDS]
//        (default: 2000 4 100 3)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "bench/bench_util.hpp"
#include "client/master_client.hpp"
#include "common/frame.hpp"
#include "common/login.hpp"
#include "common/message.hpp"
#include "tests/functional/harness.hpp"

using namespace bb;
using namespace bb::test;
using namespace std::chrono_literals;

namespace {

// K clients logged in (real SCRAM) and subscribed to every event, read by
// one thread with poll(). They read everything the master sends but only
// look at frame headers and each Events frame's event count, so that on a
// 2-core machine the driver takes as little CPU from the master as a
// `buildbot watch` on another machine would.
class Watchers {
 public:
  Watchers(int port, int n, const std::string& user, const std::string& password) {
    for (int i = 0; i < n; ++i) {
      const int fd = login(port, user, password);
      if (fd < 0) {
        ++failed_;
        continue;
      }
      fds_.push_back(fd);
    }
    thread_ = std::thread([this] { readAll(); });
  }
  ~Watchers() {
    stopReading();
    for (int fd : fds_) ::close(fd);
  }
  void stopReading() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int subscribed() const { return static_cast<int>(fds_.size()); }
  long events() const { return events_; }
  long frames() const { return frames_; }
  long compressedFrames() const { return compressed_; }
  double megabytes() const { return static_cast<double>(bytes_) / 1e6; }
  int dropped() const { return dropped_; }
  int failed() const { return failed_ + closed_; }
  double cpuSeconds() const { return cpu_; }

 private:
  static void sendAll(int fd, const Message& m) {
    std::vector<std::uint8_t> out;
    encodeMessage(m, out);
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t w = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (w <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(w);
    }
  }
  static Message readOne(int fd, FrameDecoder& dec) {
    Frame f;
    std::uint8_t buf[4096];
    while (dec.next(f) != FrameDecoder::Status::Ready) {
      const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r <= 0) throw std::runtime_error("connection closed during login");
      dec.feed(buf, static_cast<std::size_t>(r));
    }
    return decodeMessage(f.type, f.payload);
  }
  // Logs in and subscribes with blocking calls; returns the socket.
  static int login(int port, const std::string& user, const std::string& password) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    try {
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
      FrameDecoder dec;
      ClientLogin login("client", user, password);
      sendAll(fd, login.hello());
      while (true) {
        auto step = login.onMessage(readOne(fd, dec));
        if (step.kind == ClientLogin::Step::Send) sendAll(fd, step.reply);
        if (step.kind == ClientLogin::Step::Failed) throw std::runtime_error(step.error);
        if (step.kind == ClientLogin::Step::Done) break;
      }
      // As `buildbot watch` subscribes: everything, compressed frames welcome.
      sendAll(fd, Message{MsgType::Request,
                          Json{{"id", 1}, {"method", "subscribe"}, {"params", {{"compression", "zstd"}}}}});
      for (Message m = readOne(fd, dec); m.type != MsgType::Response; m = readOne(fd, dec)) {
      }
      return fd;
    } catch (const std::exception&) {
      ::close(fd);
      return -1;
    }
  }
  // Each connection's frames are scanned where recv() put them: the 8-byte
  // header and the first kPeek bytes of the payload are kept (they may
  // span two reads), the rest of the payload is skipped, never copied.
  static constexpr std::size_t kPeek = 64;
  struct Scan {
    std::uint8_t head[kFrameHeaderSize + kPeek];
    std::size_t have = 0, want = kFrameHeaderSize;  // bytes of `head` held, needed
    std::uint32_t length = 0;                       // the current frame's payload
    std::uint16_t type = 0;
    std::size_t skip = 0;                           // payload bytes still to pass over
  };
  // Events frames start {"subscription_id": N, "events": [..]}: the count is
  // the array header after the two keys (see ClientSession::flush), within
  // the first kPeek bytes. A compressed one starts {"subscription_id": N,
  // "count": uint 16, "events_zstd": ..} (EventFanout::send).
  void countEvents(std::uint16_t type, const std::uint8_t* p, std::size_t n) {
    if (type != static_cast<std::uint16_t>(MsgType::Events)) return;
    const std::uint8_t* end = p + n;
    static const std::uint8_t count[] = {0xa5, 'c', 'o', 'u', 'n', 't', 0xcd};
    if (const std::uint8_t* c = std::search(p, end, std::begin(count), std::end(count)); c + 8 < end) {
      events_ += (*(c + 7) << 8) | *(c + 8);
      ++compressed_;
      return;
    }
    static const std::uint8_t key[] = {0xa6, 'e', 'v', 'e', 'n', 't', 's'};
    const std::uint8_t* it = std::search(p, end, std::begin(key), std::end(key));
    if (it == end || it + 7 >= end) {
      ++dropped_;  // the dropped notice has other keys first
      return;
    }
    const std::uint8_t h = *(it + 7);
    if ((h & 0xf0) == 0x90) events_ += h & 0x0f;
    else if (h == 0xdc && it + 9 < end) events_ += (*(it + 8) << 8) | *(it + 9);
    else ++dropped_;
  }
  void scan(Scan& sc, const std::uint8_t* data, std::size_t n) {
    std::size_t pos = 0;
    while (pos < n) {
      if (sc.skip > 0) {
        const std::size_t k = std::min(sc.skip, n - pos);
        pos += k;
        sc.skip -= k;
        continue;
      }
      const std::size_t k = std::min(sc.want - sc.have, n - pos);
      std::memcpy(sc.head + sc.have, data + pos, k);
      sc.have += k;
      pos += k;
      if (sc.have < sc.want) break;
      if (sc.want == kFrameHeaderSize) {  // a header: now the start of its payload
        sc.length = (std::uint32_t{sc.head[0]} << 24) | (std::uint32_t{sc.head[1]} << 16) |
                    (std::uint32_t{sc.head[2]} << 8) | sc.head[3];
        sc.type = static_cast<std::uint16_t>((sc.head[4] << 8) | sc.head[5]);
        sc.want += std::min<std::size_t>(sc.length, kPeek);
        if (sc.want > kFrameHeaderSize) continue;
      }
      const std::size_t peeked = sc.want - kFrameHeaderSize;
      if (sc.type == static_cast<std::uint16_t>(MsgType::Events)) ++frames_;
      countEvents(sc.type, sc.head + kFrameHeaderSize, peeked);
      sc.skip = sc.length - peeked;
      sc.have = 0;
      sc.want = kFrameHeaderSize;
    }
  }
  void readAll() {
    // epoll: a wait costs the ready sockets, not all K of them.
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fds_[i], &ev);
    }
    std::vector<Scan> scans(fds_.size());
    std::vector<std::uint8_t> buf(256 * 1024);
    std::vector<epoll_event> ready(fds_.size());
    while (!stop_) {
      const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
      for (int k = 0; k < n; ++k) {
        const std::size_t i = ready[k].data.u64;
        const ssize_t r = ::recv(fds_[i], buf.data(), buf.size(), MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (r <= 0) {
          ++closed_;
          ::epoll_ctl(ep, EPOLL_CTL_DEL, fds_[i], nullptr);
          continue;
        }
        bytes_ += r;
        scan(scans[i], buf.data(), static_cast<std::size_t>(r));
      }
    }
    ::close(ep);
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    cpu_ = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  }

  std::vector<int> fds_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> dropped_{0}, failed_{0}, closed_{0};
  std::atomic<long> events_{0}, compressed_{0}, frames_{0}, bytes_{0};
  double cpu_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const int builds = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int slaves = argc > 2 ? std::atoi(argv[2]) : 4;
  const int watchers = argc > 3 ? std::atoi(argv[3]) : 100;
  const int rounds = std::max(1, argc > 4 ? std::atoi(argv[4]) : 3);
  try {
    TempDir tmp("bb-bench-subscribers");
    MasterProcess master(tmp.sub("master"));
    const std::string v = makeVerifier("pw");
    std::ostringstream y;
    y << "master: {name: bench, slave_port: " << master.port() << ", database: \"sqlite:state.sqlite\", tls: false}\n"  // raw peers below speak plain TCP
      << "slaves:\n";
    for (int i = 1; i <= slaves; ++i) y << "  - {name: s" << i << ", password: \"" << v << "\"}\n";
    y << "users: [{name: bench, password: \"" << v << "\", may: [sendchange, status]}]\n"
      << "builders:\n  - name: noop\n    slaves: [";
    for (int i = 1; i <= slaves; ++i) y << (i > 1 ? ", " : "") << "s" << i;
    y << "]\n    steps: [{shell: {name: noop, command: [\"true\"]}}]\n"
      << "schedulers: [{name: all, type: single_branch, branch: main, builders: [noop]}]\n";
    master.create();
    master.writeConfig(y.str());
    master.start();
    std::vector<std::unique_ptr<SlaveProcess>> procs;
    for (int i = 1; i <= slaves; ++i) {
      procs.push_back(std::make_unique<SlaveProcess>(tmp.sub("slave" + std::to_string(i)), master.port(),
                                                     "s" + std::to_string(i), "pw"));
      procs.back()->create();
      procs.back()->start();
    }
    for (int i = 1; i <= slaves; ++i)
      if (!master.waitForLog("slave s" + std::to_string(i) + " connected", 30s))
        throw std::runtime_error("slave did not connect:\n" + master.log());
    const pid_t pid = bench::readPid(master.dir() + "/buildmaster.pid");
    client::MasterClient c({"127.0.0.1", static_cast<std::uint16_t>(master.port())}, {"bench", "pw"},
                            bench::clientOptions(master));
    c.connect();
    int done = 0;
    auto run = [&](const char* label) {
      const auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = bench::cpuSeconds(pid);
      const auto machine0 = bench::machineCpu();
      for (int i = 0; i < builds; ++i)
        c.call("sendchange", Json{{"author", "bench"}, {"branch", "main"}, {"revision", "r" + std::to_string(i)}});
      done += builds;
      const std::string sql = "SELECT count(*) FROM builds WHERE finished=1";
      if (!waitFor([&] { return std::stoi(sqlite(master.dbPath(), sql)[0][0]) >= done; }, 600s, 5ms))
        throw std::runtime_error("builds did not finish");
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto machine1 = bench::machineCpu();
      std::printf("%-28s %6d builds in %6.2f s: %7.1f builds/s, master %.3f ms CPU/build, "
                  "machine %.3f ms CPU/build (%.0f%% idle), RSS %.1f MiB\n",
                  label, builds, secs, builds / secs, (bench::cpuSeconds(pid) - cpu0) * 1000.0 / builds,
                  (machine1.busy - machine0.busy) * 1000.0 / builds,
                  100.0 * (machine1.idle - machine0.idle) /
                      std::max(1e-9, (machine1.busy - machine0.busy) + (machine1.idle - machine0.idle)),
                  bench::memoryMiB(pid, "VmRSS:"));
      return builds / secs;
    };
    // Rounds of (without, with): each with-phase is compared with the
    // without-phases on either side of it, so a drift (the database grows)
    // and a slow moment of the machine do not land on one side only.
    std::vector<double> without{run("no subscribers")};
    std::vector<double> with;
    // The master's newest event sequence number, from a subscribe reply.
    auto lastSeq = [&] {
      const Json r = c.call("subscribe", Json{{"topics", {"scheduler"}}});
      c.call("unsubscribe", Json{{"subscription_id", r["subscription_id"]}});
      return r["seq"].get<long>();
    };
    for (int round = 0; round < rounds; ++round) {
      const double rss0 = bench::memoryMiB(pid, "VmRSS:");
      {
        Watchers w(master.port(), watchers, "bench", "pw");
        if (w.subscribed() < watchers) throw std::runtime_error("not every subscriber logged in");
        const double rssSubscribed = bench::memoryMiB(pid, "VmRSS:");
        const long seq0 = lastSeq();
        with.push_back(run((std::to_string(w.subscribed()) + " subscribers, all events").c_str()));
        const double rss1 = bench::memoryMiB(pid, "VmRSS:");
        const long expected = (lastSeq() - seq0) * w.subscribed();
        waitFor([&] { return w.events() >= expected; }, 30s);  // the last events reach them
        const long got = w.events();
        w.stopReading();
        std::printf("  subscribers: %d subscribed, %d closed, %d dropped by the master; %ld of %ld events "
                    "delivered in %ld frames (%ld compressed), %.1f MB; driver thread %.2f s CPU\n",
                    w.subscribed(), w.failed(), w.dropped(), got, expected, w.frames(), w.compressedFrames(),
                    w.megabytes(), w.cpuSeconds());
        std::printf("  master RSS: %.1f MiB before, %.1f MiB with them connected, %.1f MiB after their builds\n",
                    rss0, rssSubscribed, rss1);
      }
      without.push_back(run("no subscribers"));
    }
    {
      const std::string log = master.log();
      std::size_t alone = 0;
      for (auto at = log.find("fell behind the frames shared"); at != std::string::npos;
           at = log.find("fell behind the frames shared", at + 1))
        ++alone;
      std::printf("subscriptions that fell behind their shared frames and went on alone: %zu\n", alone);
    }
    std::vector<double> ratios;
    for (int round = 0; round < rounds; ++round) {
      ratios.push_back(100.0 * with[round] / ((without[round] + without[round + 1]) / 2));
      std::printf("round %d: with subscribers %.1f%% of the builds/s without them\n", round + 1, ratios.back());
    }
    std::sort(ratios.begin(), ratios.end());
    double withSum = 0, withoutSum = 0;
    for (double x : with) withSum += x;
    for (double x : without) withoutSum += x;
    std::printf("with subscribers: %.0f%% of the builds/s without them (median of %d rounds; %.0f%% of the "
                "mean)\n",
                ratios[ratios.size() / 2], rounds,
                100.0 * (withSum / with.size()) / (withoutSum / without.size()));
    c.close();
    for (auto& s : procs) s->stop();
    master.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "event_subscribers_bench failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
