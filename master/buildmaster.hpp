#pragma once
// The buildmaster: owns every component, starts them in order, applies a
// reconfig, and runs the numbered shutdown sequence. One io_context thread
// owns all master state; git runs on one worker thread and posts back.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/master_config.hpp"
#include "master/database_password.hpp"

namespace bb {

class BuildMaster {
 public:
  // dir: the master directory; config: already validated.
  BuildMaster(std::string dir, MasterConfig config);
  ~BuildMaster();

  // Opens the database, recovers from an unclean stop, binds the port and
  // runs until shutdown. onReady runs once the port is listening; on a
  // startup failure (bind, database) onFailed gets one line saying what to
  // fix and run() returns 1. Returns 0 after a shutdown.
  int run(std::function<void()> onReady, std::function<void(const std::string&)> onFailed);

  // Thread-safe triggers (also wired to signals: SIGHUP reconfig, SIGTERM
  // and SIGINT shutdown, SIGUSR1 clean shutdown).
  void requestReconfig();
  void requestShutdown(bool clean);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Resolves "sqlite:state.sqlite" (relative to dir) to a file path; a
// postgresql:// URL is returned as it is. Throws
// std::runtime_error for an unsupported database URL.
std::string databasePath(const std::string& dir, const std::string& url);

}  // namespace bb
