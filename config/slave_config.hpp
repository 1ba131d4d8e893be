#pragma once
// Typed buildslave configuration (DIR/slave.yaml), written by
// `buildslave create-slave` and documented in docs/configuration.md.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "config/log_rotation.hpp"

namespace bb {

// One master the slave may connect to. `fingerprint` (canonical) pins
// this master's certificate; empty: master_fingerprint / ca_file apply.
struct SlaveMasterEntry {
  std::string host;
  std::uint16_t port = 9989;
  std::string fingerprint;
};

struct SlaveConfig {
  std::string path;
  // The first master (`master:`, or the first of `masters:`).
  std::string masterHost = "127.0.0.1";
  std::uint16_t masterPort = 9989;
  // `masters:`: every master of a cluster the slave may connect to, tried
  // in order, moving to the next on a failed attempt or a lost connection
  // (docs/multimaster.md). Empty when the config names one `master:`.
  std::vector<SlaveMasterEntry> masters;
  std::string name;
  std::string password;
  std::string basedir;  // where builder workdirs live; default: the slave dir
  std::chrono::seconds heartbeatInterval{10};
  std::chrono::seconds heartbeatTimeout{30};
  std::chrono::milliseconds reconnectMin{500};
  std::chrono::milliseconds reconnectMax{60000};
  int killGraceSeconds = 5;  // SIGTERM -> SIGKILL
  std::uint32_t maxFrame = 1u << 20;
  LogRotationConfig log;  // buildslave.log
  // How the master is trusted: TLS (the default) needs masterFingerprint
  // ("SHA256:<hex>", canonical) or caFile (absolute once loaded), or both;
  // `tls: false` means plain TCP and allows neither.
  bool tls = true;
  std::string masterFingerprint;
  std::string caFile;
};

// The masters to try, in order: `masters`, or the one master.
std::vector<SlaveMasterEntry> masterEntries(const SlaveConfig& c);

ConfigResult<SlaveConfig> loadSlaveConfig(const std::string& path);
ConfigResult<SlaveConfig> parseSlaveConfig(const std::string& yaml, const std::string& name);
// Writes a slave.yaml (mode 0600, since it holds the password).
// ca_file is written as given.
void writeSlaveConfig(const SlaveConfig& c, const std::string& path);

}  // namespace bb
