// Log streaming benchmark: one step printing SIZE bytes (default 100 MB).
// Reports MB/s end to end (force to build finished, every byte stored) and
// master peak RSS. Usage: log_bench [--tls=on|off] [MEGABYTES] [repetitive|random]
// (TLS on by default, as for a new master).
// `repetitive` (default) prints `yes ... | head -c`, which compresses
// ~800:1; `random` prints base64 of /dev/urandom (MEGABYTES x 10^6 random
// bytes become 4/3 as many bytes of output), which barely compresses.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "bench/bench_util.hpp"
#include "client/master_client.hpp"
#include "tests/functional/harness.hpp"

using namespace bb;
using namespace bb::test;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const bool tls = bench::takeTlsSwitch(argc, argv);
  std::cout << "TLS " << (tls ? "on" : "off") << "\n";
  const long long randomMb = argc > 1 ? std::atoll(argv[1]) : 100;
  const bool random = argc > 2 && std::string(argv[2]) == "random";
  if (argc > 2 && !random && std::string(argv[2]) != "repetitive") {
    std::fprintf(stderr, "usage: log_bench [MEGABYTES] [repetitive|random]\n");
    return 2;
  }
  // base64 turns 3 bytes into 4, plus a newline every 76 characters.
  const long long bytes = random ? randomMb * 1000 * 1000 / 57 * 77 : randomMb * 1000 * 1000;
  const double mb = static_cast<double>(bytes) / 1e6;
  const std::string command =
      random ? "head -c " + std::to_string(randomMb * 1000 * 1000) + " /dev/urandom | base64"
             : "yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c " +
                   std::to_string(bytes);
  try {
    TempDir tmp("bb-bench-log");
    MasterProcess master(tmp.sub("master"));
    const std::string v = makeVerifier("pw");
    std::ostringstream y;
    y << "master: {name: bench, slave_port: " << master.port() << ", database: \"sqlite:state.sqlite\""
      << bench::tlsKey(tls) << "}\n"
      << "slaves: [{name: s1, password: \"" << v << "\"}]\n"
      << "users: [{name: bench, password: \"" << v << "\", may: [force, status]}]\n"
      << "builders:\n  - name: big\n    slaves: [s1]\n"
      << "    steps: [{shell: {name: print, timeout: 600, command: \"" << command << "\"}}]\n"
      << "schedulers: [{name: force, type: force, builders: [big]}]\n";
    master.create();
    master.writeConfig(y.str());
    master.start();
    SlaveProcess slave(tmp.sub("slave"), master.port(), "s1", "pw");
    slave.create();
    slave.start();
    if (!master.waitForLog("slave s1 connected", 30s)) throw std::runtime_error(master.log());
    const pid_t pid = bench::readPid(master.dir() + "/buildmaster.pid");
    const double cpu0 = bench::cpuSeconds(pid);
    client::MasterClient c({"127.0.0.1", static_cast<std::uint16_t>(master.port())}, {"bench", "pw"},
                            bench::clientOptions(master));
    const auto t0 = std::chrono::steady_clock::now();
    c.call("force", Json{{"scheduler", "force"}});
    if (!waitFor([&] { return sqlite(master.dbPath(), "SELECT finished FROM builds WHERE number=1") ==
                              std::vector<std::vector<std::string>>{{"1"}}; },
                 600s, 5ms))
      throw std::runtime_error("build did not finish");
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu = bench::cpuSeconds(pid) - cpu0;
    const double peak = bench::memoryMiB(pid);
    auto stored = sqlite(master.dbPath(), "SELECT sum(bytes) FROM logs");
    // Stored size, in the rows and in the log files (schema 16); a master
    // from before log files (an A/B run) has no file_bytes column.
    std::vector<std::vector<std::string>> compressed;
    try {
      compressed = sqlite(master.dbPath(), "SELECT sum(coalesce(file_bytes, length(compressed))) FROM log_chunks");
    } catch (const std::exception&) {
      compressed = sqlite(master.dbPath(), "SELECT sum(length(compressed)) FROM log_chunks");
    }
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    std::printf("%-10s %-10s %-9s %-9s %-14s %-14s %-16s\n", "MB", "seconds", "MB/s", "peak MiB",
                "master CPU s", "stored bytes", "compressed bytes");
    std::printf("%-10.1f %-10.2f %-9.1f %-9.1f %-14.2f %-14s %-16s\n", mb, secs, mb / secs, peak, cpu,
                stored.empty() ? "?" : stored[0][0].c_str(), compressed.empty() ? "?" : compressed[0][0].c_str());
    if (stored.empty() || std::stoll(stored[0][0]) < bytes)
      std::fprintf(stderr, "warning: the stored log is shorter than what was printed\n");
    c.close();
    slave.stop();
    master.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "log_bench failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
