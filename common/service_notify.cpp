#include "common/service_notify.hpp"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

namespace bb {

namespace {

// A value for STATUS= must be one line.
std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

void send(const std::string& state) {
  // Keep NOTIFY_SOCKET set (unset_environment=0): the same process sends
  // several messages over its life.
  const int rc = ::sd_notify(0, state.c_str());
  if (rc < 0) spdlog::warn("cannot notify the service manager: {}", std::strerror(-rc));
}

}  // namespace

void notifyReady(const std::string& status) {
  send("READY=1\nMAINPID=" + std::to_string(::getpid()) + "\nSTATUS=" + oneLine(status));
}

void notifyReloading() { send("RELOADING=1\nSTATUS=reconfig in progress"); }

void notifyReloaded(const std::string& status) { send("READY=1\nSTATUS=" + oneLine(status)); }

void notifyStopping(const std::string& status) { send("STOPPING=1\nSTATUS=" + oneLine(status)); }

}  // namespace bb
