#include "common/output_payload.hpp"

#include <cstdint>
#include <cstring>

#include "common/msgpack_write.hpp"

namespace bb {

void encodeOutputPayload(std::int64_t cmdId, int stream, std::string_view data, std::vector<std::uint8_t>& out) {
  out.clear();
  out.reserve(32 + data.size());
  out.push_back(0x83);  // a map of 3, keys in nlohmann's (sorted) order
  msgpack::putString(out, "cmd_id");
  msgpack::putInt(out, cmdId);
  msgpack::putString(out, "data");
  msgpack::putBinaryHeader(out, data.size());
  const std::size_t at = out.size();
  out.resize(at + data.size());
  if (!data.empty()) std::memcpy(out.data() + at, data.data(), data.size());
  msgpack::putString(out, "stream");
  msgpack::putInt(out, stream);
}

}  // namespace bb
