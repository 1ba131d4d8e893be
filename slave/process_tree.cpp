#include "slave/process_tree.hpp"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

namespace bb {

namespace {

// Reads the state and ppid from /proc/PID/stat. The command name is in
// parentheses and may contain spaces or ')', so parse after the last ')'.
bool readStat(pid_t pid, char& state, pid_t& ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  long parent = -1;
  if (!(rest >> state >> parent)) return false;
  ppid = static_cast<pid_t>(parent);
  return true;
}

}  // namespace

pid_t parentOf(pid_t pid) {
  char state = 0;
  pid_t ppid = -1;
  return readStat(pid, state, ppid) ? ppid : -1;
}

bool isAlive(pid_t pid) {
  char state = 0;
  pid_t ppid = -1;
  return readStat(pid, state, ppid) && state != 'Z' && state != 'X';
}

std::vector<pid_t> descendantsOf(pid_t root) {
  std::multimap<pid_t, pid_t> children;  // ppid -> pid
  DIR* dir = ::opendir("/proc");
  if (!dir) {
    spdlog::warn("cannot list /proc: {}", std::strerror(errno));
    return {};
  }
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    char state = 0;
    pid_t ppid = -1;
    if (readStat(static_cast<pid_t>(pid), state, ppid) && state != 'Z')
      children.emplace(ppid, static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  std::vector<pid_t> result;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto [lo, hi] = children.equal_range(p);
    for (auto it = lo; it != hi; ++it) {
      if (std::find(result.begin(), result.end(), it->second) != result.end()) continue;
      result.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  std::sort(result.begin(), result.end());
  return result;
}

void signalTree(pid_t pgid, const std::vector<pid_t>& pids, int sig) {
  if (pgid > 0 && ::kill(-pgid, sig) != 0 && errno != ESRCH)
    spdlog::warn("kill(-{}, {}) failed: {}", pgid, sig, std::strerror(errno));
  for (pid_t p : pids) {
    if (p > 0 && ::kill(p, sig) != 0 && errno != ESRCH)
      spdlog::warn("kill({}, {}) failed: {}", p, sig, std::strerror(errno));
  }
}

std::string formatPids(const std::vector<pid_t>& pids) {
  std::string s;
  for (pid_t p : pids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(p);
  }
  return s;
}

}  // namespace bb
