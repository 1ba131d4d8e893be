#pragma once
// How a daemon's own log file rotates (keys log_max_mb and log_keep of
// master.yaml's master section and of slave.yaml).
#include <cstdint>

namespace bb {

struct LogRotationConfig {
  int maxMegabytes = 10;  // rotate when the file would pass this; 0: never
  int keep = 10;          // rotated files kept (NAME.1.log .. NAME.KEEP.log)
  std::uint64_t maxBytes() const { return static_cast<std::uint64_t>(maxMegabytes) << 20; }
};

}  // namespace bb
