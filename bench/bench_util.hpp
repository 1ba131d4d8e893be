#pragma once
// Shared by the benchmark programs: process statistics from /proc, the
// master's log timestamps, and client options for a harness master.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "client/master_client.hpp"
#include "tests/functional/harness.hpp"

namespace bb::bench {

// Removes a `--tls=on` / `--tls=off` argument from argv (anywhere) and
// says which: the master of a benchmark speaks TLS (the default, as a new
// master does) or plain TCP, to compare the two on the same day.
inline bool takeTlsSwitch(int& argc, char** argv) {
  bool tls = true;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tls=on") tls = true;
    else if (a == "--tls=off") tls = false;
    else argv[out++] = argv[i];
  }
  argc = out;
  return tls;
}

// The master-section text for that choice: "" or ", tls: false".
inline std::string tlsKey(bool tls) { return tls ? "" : ", tls: false"; }

// A MasterClient's options for `master`: pinned to its certificate, or
// plain TCP when its config says tls: false.
inline client::MasterClientOptions clientOptions(const test::MasterProcess& master) {
  client::MasterClientOptions o;
  o.trust.fingerprint = master.fingerprint();
  o.trust.tls = !o.trust.fingerprint.empty();
  return o;
}

// CPU seconds the whole machine has spent busy and idle (every core,
// from /proc/stat), for the cost of a run on everything that ran.
struct MachineCpu {
  double busy = 0, idle = 0;
};
inline MachineCpu machineCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {(user + nice + system + irq + softirq + steal) / ticks, (idle + iowait) / ticks};
}

// User + system CPU seconds used so far by `pid`.
inline double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  std::vector<std::string> f;
  while (rest >> field) f.push_back(field);
  // After "pid (comm) ": state is f[0]; utime and stime are fields 14 and 15.
  if (f.size() < 13) return 0;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(f[11]) + std::stod(f[12])) / ticks;
}

// A "VmHWM:" (peak) or "VmRSS:" line of /proc/PID/status, in MiB.
inline double memoryMiB(pid_t pid, const std::string& key = "VmHWM:") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;
  return 0;
}

inline pid_t readPid(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

// Milliseconds since midnight of a "YYYY-MM-DD HH:MM:SS.mmm ..." log line.
inline std::int64_t logLineMs(const std::string& line) {
  if (line.size() < 23) return -1;
  const int h = std::stoi(line.substr(11, 2)), m = std::stoi(line.substr(14, 2)),
            s = std::stoi(line.substr(17, 2)), ms = std::stoi(line.substr(20, 3));
  return ((h * 60LL + m) * 60 + s) * 1000 + ms;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

}  // namespace bb::bench
