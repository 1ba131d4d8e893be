#pragma once
// The address of a master's slave port as the command lines take it:
// "HOST:PORT", or "[IPV6]:PORT". Shared by `buildslave create-slave` and
// every `buildbot` verb, so both accept and refuse the same texts.
#include <cstdint>
#include <optional>
#include <string>

namespace bb {

struct MasterAddress {
  std::string host;
  std::uint16_t port = 0;
  // "host:port", or "[v6]:port" for a host that contains ':'.
  std::string toString() const;
  bool operator==(const MasterAddress&) const = default;
};

// Parses `text`. On failure returns nullopt and sets `error` to what is
// wrong, e.g. "expected HOST:PORT", "the port must be in 1..65535", "an
// IPv6 address goes in brackets: [ADDRESS]:PORT".
std::optional<MasterAddress> parseMasterAddress(const std::string& text, std::string& error);

}  // namespace bb
