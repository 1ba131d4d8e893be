#pragma once
// `buildslave VERB ...`: create-slave, start, stop, restart. Returns the
// exit code: 0 ok, 1 the operation failed (one line saying what to fix),
// 2 usage error.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace bb {

int slaveMain(int argc, char** argv);

// Splits "host:port" or "[v6addr]:port"; nullopt if malformed or the port
// is not 1-65535.
std::optional<std::pair<std::string, std::uint16_t>> parseMasterAddress(const std::string& text);

}  // namespace bb
