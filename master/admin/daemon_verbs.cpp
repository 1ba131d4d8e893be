// buildmaster start, stop, restart and reconfig: the verbs that run or
// signal the daemon of a master directory.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/daemon_start.hpp"
#include "master/admin/admin.hpp"
#include "master/buildmaster.hpp"

namespace bb::admin {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

int startMaster(const std::string& dir, bool nodaemon) {
  const std::string cfgPath = (fs::path(dir) / kConfigName).string();
  auto cfg = loadChecked(cfgPath);
  if (!cfg) return 1;
  DaemonStartOptions o;
  o.program = "buildmaster";
  o.dir = dir;
  o.pidPath = pidPathFor(dir);
  o.logPath = logPathFor(dir);
  o.foreground = nodaemon;
  o.logRotateBytes = cfg->master.log.maxBytes();
  o.logKeep = cfg->master.log.keep;
  auto daemon = DaemonStart::begin(o);
  if (!daemon) return 1;
  const std::string absDir = fs::absolute(dir).lexically_normal().string();
  const std::string logAbs = fs::absolute(o.logPath).lexically_normal().string();
  cfg->path = fs::absolute(cfgPath).string();
  const std::string where = cfg->master.host + ":" + std::to_string(cfg->master.slavePort);
  BuildMaster master(absDir, *cfg);
  const int rc = master.run(
      [&] {
        daemon->ready("buildmaster started in " + absDir + ": pid " + std::to_string(::getpid()) +
                      ", port " + where + ", log " + logAbs);
      },
      [&](const std::string& msg) { daemon->failed(msg); });
  spdlog::default_logger()->flush();
  return rc;
}

int stopMaster(const std::string& dir, bool clean) {
  std::string message;
  // A clean stop waits for running builds, so it may take a long time.
  const auto limit = clean ? std::chrono::seconds(24 * 3600) : std::chrono::seconds(60);
  if (clean) std::cout << "waiting for running builds to finish..." << std::endl;
  if (!stopDaemon(pidPathFor(dir), clean ? SIGUSR1 : SIGTERM, limit, message)) {
    std::cerr << "buildmaster " << message << "\n";
    return 1;
  }
  std::cout << "buildmaster " << message << "\n";
  return 0;
}

// The log from byte `from` on (from 0 if the file was rotated meanwhile).
std::vector<std::string> logLinesFrom(const std::string& logPath, std::uintmax_t from) {
  std::error_code ec;
  const auto size = fs::file_size(logPath, ec);
  if (ec || size < from) from = 0;
  std::ifstream in(logPath);
  in.seekg(static_cast<std::streamoff>(from));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

int startVerb(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("nodaemon", po::bool_switch(),
                  "stay in the foreground and log to stderr too (systemd runs it so)");
  auto p = parseMasterVerb("start", "start DIR [--nodaemon]", o, args, {dirArg()});
  if (!p) return 2;
  if (p->help) return 0;
  return startMaster(p->vm["dir"].as<std::string>(), p->vm["nodaemon"].as<bool>());
}

int stopVerb(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("clean", po::bool_switch(),
                  "start no new builds and wait for running ones to finish");
  auto p = parseMasterVerb("stop", "stop DIR [--clean]", o, args, {dirArg()});
  if (!p) return 2;
  if (p->help) return 0;
  return stopMaster(p->vm["dir"].as<std::string>(), p->vm["clean"].as<bool>());
}

int restartVerb(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("nodaemon", po::bool_switch(), "stay in the foreground")(
      "clean", po::bool_switch(), "let running builds finish before stopping");
  auto p = parseMasterVerb("restart", "restart DIR [--nodaemon] [--clean]", o, args, {dirArg()});
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  if (pidFileLocked(pidPathFor(dir))) {
    const int rc = stopMaster(dir, p->vm["clean"].as<bool>());
    if (rc != 0) return rc;
  } else {
    std::cout << "buildmaster was not running\n";
  }
  return startMaster(dir, p->vm["nodaemon"].as<bool>());
}

int reconfigVerb(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("timeout", po::value<int>()->default_value(30)->value_name("SECONDS"),
                  "how long to wait for the result");
  auto p = parseMasterVerb("reconfig", "reconfig DIR [--timeout SECONDS]", o, args, {dirArg()});
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  const std::string pidPath = pidPathFor(dir);
  const std::string logPath = logPathFor(dir);
  auto pid = readPidFile(pidPath);
  if (!pid || !pidFileLocked(pidPath)) {
    std::cerr << "buildmaster is not running in " << dir << "\n";
    return 1;
  }
  std::error_code ec;
  const auto startSize = fs::exists(logPath) ? fs::file_size(logPath, ec) : 0;
  if (kill(*pid, SIGHUP) != 0) {
    std::cerr << "cannot signal pid " << *pid << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  // Follow the log until the master reports the outcome: "reconfig
  // complete: WHAT CHANGED" or "reconfig failed" after its errors.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(p->vm["timeout"].as<int>());
  while (std::chrono::steady_clock::now() < deadline) {
    const auto lines = logLinesFrom(logPath, startSize);
    for (const auto& l : lines) {
      if (auto at = l.find("reconfig complete"); at != std::string::npos) {
        std::cout << l.substr(at) << "\n";
        return 0;
      }
      if (l.find("reconfig failed") != std::string::npos) {
        for (const auto& e : lines)
          if (e.find("reconfig: ") != std::string::npos && e.find("[error]") != std::string::npos)
            std::cerr << e.substr(e.find("reconfig: ") + 10) << "\n";
        std::cerr << l.substr(l.find("reconfig failed")) << "\n";
        return 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "no reconfig result in " << logPath << " after " << p->vm["timeout"].as<int>()
            << " s; check the log\n";
  return 1;
}

}  // namespace bb::admin
