#include "common/daemon_start.hpp"

#include <iostream>

#include <spdlog/spdlog.h>

#include "common/service_notify.hpp"

namespace bb {

std::optional<DaemonStart> DaemonStart::begin(const DaemonStartOptions& options) {
  DaemonStart d;
  d.options_ = options;
  // 1. A running daemon is refused before anything is forked or touched.
  if (pidFileLocked(options.pidPath)) {
    const auto pid = readPidFile(options.pidPath);
    std::cerr << options.program << " is already running in " << options.dir << " (pid "
              << (pid ? std::to_string(*pid) : "?") << "); stop it first\n";
    return std::nullopt;
  }
  // 2. Into the background; from here on failures are reported through
  // the daemonizer to the waiting parent.
  if (!options.foreground) {
    try {
      d.daemon_.emplace(Daemonizer::start(options.logPath));
    } catch (const std::exception& e) {
      std::cerr << options.program << ": " << e.what() << "\n";
      return std::nullopt;
    }
  }
  // 3, 4. The pid file (another start may have won the race since 1), then
  // the log.
  try {
    d.pidFile_.emplace(PidFile::acquire(options.pidPath));
    LogOptions log;
    log.rotateBytes = options.logRotateBytes;
    log.keep = options.logKeep;
    log.alsoStderr = options.foreground;
    log.redirectStdio = !options.foreground;
    initLogging(options.logPath, "info", log);
  } catch (const std::exception& e) {
    d.failed(e.what());
    return std::nullopt;
  }
  return d;
}

void DaemonStart::ready(const std::string& line) {
  spdlog::info("{}", line);
  if (daemon_) {
    daemon_->ready(line);
  } else {
    std::cout << line << std::endl;
  }
  notifyReady(line);
}

int DaemonStart::failed(const std::string& message) {
  spdlog::error("startup failed: {}", message);
  // Released before the report, so that when `start` has said why it
  // failed, the next command (upgrade-master, create-master, start) does
  // not find this dying process still holding the directory.
  pidFile_.reset();
  if (daemon_) {
    daemon_->failed(options_.program + ": " + message);
  } else {
    std::cerr << options_.program << ": " << message << "\n";
  }
  return 1;
}

}  // namespace bb
