// MessagePack to Json, for message bodies from peers.
//
// nlohmann's own reader copies `bin` payloads one byte at a time, which
// made it the largest cost of storing build output (a 64 KiB Output chunk
// is one bin). This reader copies strings and bins whole and gives the
// same Json values nlohmann's would: positive fixint and uint8..64 are
// unsigned numbers, negative fixint and int8..64 signed ones, float32 and
// float64 doubles, a repeated map key keeps its last value. It refuses
// what nlohmann's strict mode refuses (0xc1, map keys that are not
// strings, truncated input, bytes after the value), ext types (nlohmann
// reads them as binary with a subtype; no message has them) and
// containers nested deeper than `maxDepth`; it never reserves more than
// the input could hold, so a lying length costs nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace bb {

struct MsgpackError : std::runtime_error {
  enum class Kind { Malformed, TooDeep };
  MsgpackError(Kind k, const char* what) : std::runtime_error(what), kind(k) {}
  Kind kind;
};

// Decodes exactly one value filling [data, data + size). Throws MsgpackError.
nlohmann::json decodeMsgpack(const std::uint8_t* data, std::size_t size, std::size_t maxDepth);

}  // namespace bb
