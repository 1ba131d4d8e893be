#pragma once
// The MessagePack body of an Output frame ({cmd_id, data, stream},
// docs/protocol.md), encoded straight from the bytes: the slave sends one
// per read of a command's output, and building it through a Json value
// copied the output three times, one byte at a time the first. The bytes
// are exactly what nlohmann::json::to_msgpack makes of the same body (keys
// in order, each integer in its smallest form), so the frame is unchanged.
#include <cstdint>
#include <string_view>
#include <vector>

namespace bb {

// Replaces `out` with the body.
void encodeOutputPayload(std::int64_t cmdId, int stream, std::string_view data, std::vector<std::uint8_t>& out);

}  // namespace bb
