#pragma once
// How buildmaster and buildslave start: the steps `start DIR` shares
// between the two programs, so both say the same things the same way.
//
//   auto d = DaemonStart::begin(options);   // 1-4 below
//   if (!d) return 1;
//   ... open ports, connect ...
//   if (failure) return d->failed("cannot bind ...");
//   d->ready("buildmaster started in DIR: pid N, port P, log L");
//
// 1. refuse if the pid file is held ("PROGRAM is already running in DIR
//    (pid N); stop it first");
// 2. unless in the foreground, fork into the background (Daemonizer): the
//    starting command waits and prints the ready line or the failure;
// 3. take the pid file;
// 4. log to the log file (rotated as configured), and to stderr too in
//    the foreground.
// ready() also tells systemd (READY=1, common/service_notify.hpp).
#include <memory>
#include <optional>
#include <string>

#include "common/daemon.hpp"
#include "common/logging.hpp"

namespace bb {

struct DaemonStartOptions {
  std::string program;  // "buildmaster", used in messages
  std::string dir;      // as the user wrote it, used in messages
  std::string pidPath;
  std::string logPath;
  bool foreground = false;  // --nodaemon
  std::uint64_t logRotateBytes = 0;
  int logKeep = 10;
};

class DaemonStart {
 public:
  // Steps 1-4. On failure, says why (stderr, or to the waiting parent)
  // and returns nullopt; the caller exits 1.
  static std::optional<DaemonStart> begin(const DaemonStartOptions& options);

  DaemonStart(DaemonStart&&) noexcept = default;
  DaemonStart& operator=(DaemonStart&&) noexcept = default;

  // Startup finished: `line` goes to the user (stdout, from the starting
  // command in the background case) and to the log; systemd hears READY=1.
  void ready(const std::string& line);

  // Startup failed after begin(): logs "startup failed: MESSAGE" and tells
  // the user "PROGRAM: MESSAGE". Returns 1, the exit code.
  int failed(const std::string& message);

 private:
  DaemonStart() = default;
  DaemonStartOptions options_;
  std::optional<Daemonizer> daemon_;
  std::optional<PidFile> pidFile_;
};

}  // namespace bb
