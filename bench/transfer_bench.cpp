// File transfer benchmark: a SIZE MB (default 200) file of random bytes
// uploaded from one slave to the master (upload_file), then downloaded by
// another slave (download_file), against `cp` of the same file. Reports
// MB/s of each (the slave command's own elapsed time), the master's CPU
// seconds per MB (of the whole build), and the peak RSS (VmHWM)
// of the master and both slaves after each phase: with the credit window
// they stay flat whatever SIZE is. Usage: transfer_bench [--tls=on|off] [MEGABYTES]
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
  const long long megabytes = argc > 1 ? std::atoll(argv[1]) : 200;
  const long long bytes = megabytes * 1024 * 1024;
  const double mb = static_cast<double>(bytes) / 1e6;
  std::cout << "TLS " << (tls ? "on" : "off") << ", " << megabytes << " MiB\n";
  try {
    TempDir tmp("bb-bench-transfer");
    MasterProcess master(tmp.sub("master"));
    const std::string v = makeVerifier("pw");
    const std::string cap = std::to_string(bytes * 2);
    std::ostringstream y;
    y << "master: {name: bench, slave_port: " << master.port() << bench::tlsKey(tls)
      << ", artifacts_max_build_size: " << cap << "}\n"
      << "slaves: [{name: s1, password: \"" << v << "\"}, {name: s2, password: \"" << v << "\"}]\n"
      << "users: [{name: bench, password: \"" << v << "\", may: [force, status]}]\n"
      << "builders:\n"
      << "  - name: up\n    slaves: [s1]\n"
      << "    steps:\n"
      << "      - shell: {command: \"head -c " << bytes << " /dev/urandom > a.bin\", timeout: 600}\n"
      << "      - upload_file: {artifact: a.bin, src: a.bin, max_size: " << cap << "}\n"
      << "  - name: down\n    slaves: [s2]\n"
      << "    steps: [{download_file: {artifact: a.bin, build: \"1\", dest: a.bin, max_size: " << cap << "}}]\n"
      << "schedulers: [{name: force, type: force, builders: [up, down]}]\n";
    const std::string yaml = y.str();
    master.create();
    master.writeConfig(yaml);
    master.setAuth("bench", "pw");
    master.start();
    SlaveProcess s1(tmp.sub("s1"), master.port(), "s1", "pw");
    SlaveProcess s2(tmp.sub("s2"), master.port(), "s2", "pw");
    s1.create();
    s1.start();
    s2.create();
    s2.start();
    if (!master.waitForLog("slave s1 connected", 30s) || !master.waitForLog("slave s2 connected", 30s))
      throw std::runtime_error(master.log());
    const pid_t mpid = bench::readPid(master.dir() + "/buildmaster.pid");
    const pid_t p1 = bench::readPid(s1.dir() + "/buildslave.pid");
    const pid_t p2 = bench::readPid(s2.dir() + "/buildslave.pid");
    client::MasterClient c({"127.0.0.1", static_cast<std::uint16_t>(master.port())}, {"bench", "pw"},
                            bench::clientOptions(master));
    auto build = [&](const std::string& builder, int id) {
      const auto t0 = std::chrono::steady_clock::now();
      c.call("force", Json{{"scheduler", "force"}, {"builders", Json::array({builder})}});
      if (!waitFor([&] { return sqlite(master.dbPath(), "SELECT finished, result FROM builds WHERE id=" + std::to_string(id)) ==
                                std::vector<std::vector<std::string>>{{"1", "0"}}; },
                   1200s, 5ms))
        throw std::runtime_error(builder + " did not succeed:\n" + master.log());
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    auto rss = [&] {
      char line[160];
      std::snprintf(line, sizeof line, "peak RSS MiB: master %.1f, s1 %.1f, s2 %.1f", bench::memoryMiB(mpid),
                    bench::memoryMiB(p1), bench::memoryMiB(p2));
      return std::string(line);
    };
    // The transfer command's own time, from the slave's "elapsed X s" line.
    auto elapsed = [&](const std::string& builder, const std::string& step) {
      auto r = master.client({"log", builder, "1", step});
      const auto at = r.out.rfind("elapsed ");
      if (r.rc != 0 || at == std::string::npos) throw std::runtime_error("no elapsed line: " + r.describe());
      return std::atof(r.out.c_str() + at + 8);
    };
    std::cout << "before:         " << rss() << "\n";
    double cpu0 = bench::cpuSeconds(mpid);
    build("up", 1);
    const double up = elapsed("up", "upload_file");
    const double upCpu = bench::cpuSeconds(mpid) - cpu0;
    std::cout << "after upload:   " << rss() << "\n";
    cpu0 = bench::cpuSeconds(mpid);
    build("down", 2);
    const double down = elapsed("down", "download_file");
    const double downCpu = bench::cpuSeconds(mpid) - cpu0;
    std::cout << "after download: " << rss() << "\n";
    const auto c0 = std::chrono::steady_clock::now();
    auto cp = run({"cp", s1.dir() + "/up/build/a.bin", tmp.sub("copy.bin")});
    const double cpSecs = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
    if (cp.rc != 0) throw std::runtime_error(cp.describe());
    std::printf("%-10s %-10s %-9s %-16s\n", "phase", "seconds", "MB/s", "master CPU s/MB");
    std::printf("%-10s %-10.2f %-9.1f %-16.4f\n", "upload", up, mb / up, upCpu / mb);
    std::printf("%-10s %-10.2f %-9.1f %-16.4f\n", "download", down, mb / down, downCpu / mb);
    std::printf("%-10s %-10.2f %-9.1f %-16s\n", "cp", cpSecs, mb / cpSecs, "-");
    c.close();
    s1.stop();
    s2.stop();
    master.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "transfer_bench failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
