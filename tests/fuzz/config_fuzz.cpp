// libFuzzer target: the config loaders. Any text, as master.yaml or as a
// slave's buildslave.yaml, must either load or come back as positioned
// errors; nothing may crash, hang or throw anything else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/master_config.hpp"
#include "config/slave_config.hpp"
#include "master/config_kinds.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;  // configs are small; keep runs fast
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)bb::parseMasterConfig(text, "master.yaml", bb::masterConfigKinds());
  (void)bb::parseSlaveConfig(text, "buildslave.yaml");
  return 0;
}
