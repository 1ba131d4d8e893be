#pragma once
// Telling a service manager (systemd, Type=notify) how a daemon is doing,
// through sd_notify(3)'s protocol (one datagram to the socket NOTIFY_SOCKET
// names; no libsystemd). Without NOTIFY_SOCKET in the
// environment (not started by systemd) every call does nothing.
//
// The messages, in the order a daemon's life sends them:
//   READY=1 + MAINPID + STATUS   once it listens (buildmaster) or runs (buildslave)
//   RELOADING=1, then READY=1     around a reconfig
//   STOPPING=1                    when its shutdown sequence starts
#include <string>

namespace bb {

// Startup finished; `status` is shown by `systemctl status`.
void notifyReady(const std::string& status);

// A reconfig started (finish it with notifyReloaded).
void notifyReloading();

// A reconfig ended (applied or refused); `status` says which.
void notifyReloaded(const std::string& status);

// The shutdown sequence started; `status` says why.
void notifyStopping(const std::string& status);

}  // namespace bb
