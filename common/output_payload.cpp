#include "common/output_payload.hpp"

#include <cstdint>
#include <cstring>

namespace bb {

namespace {

// A type byte, then the low `bytes` bytes of v, most significant first.
void put(std::vector<std::uint8_t>& out, std::uint8_t tag, std::uint64_t v, int bytes) {
  out.push_back(tag);
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// An integer the way nlohmann writes it: unsigned forms for v >= 0,
// signed ones below, each the smallest that holds it.
void putInt(std::vector<std::uint8_t>& out, std::int64_t v) {
  if (v >= 0) {
    const auto u = static_cast<std::uint64_t>(v);
    if (u < 128) out.push_back(static_cast<std::uint8_t>(u));
    else if (u <= 0xff) put(out, 0xcc, u, 1);
    else if (u <= 0xffff) put(out, 0xcd, u, 2);
    else if (u <= 0xffffffffULL) put(out, 0xce, u, 4);
    else put(out, 0xcf, u, 8);
    return;
  }
  const auto u = static_cast<std::uint64_t>(v);
  if (v >= -32) out.push_back(static_cast<std::uint8_t>(v));
  else if (v >= INT8_MIN) put(out, 0xd0, u, 1);
  else if (v >= INT16_MIN) put(out, 0xd1, u, 2);
  else if (v >= INT32_MIN) put(out, 0xd2, u, 4);
  else put(out, 0xd3, u, 8);
}

void putKey(std::vector<std::uint8_t>& out, std::string_view key) {
  out.push_back(static_cast<std::uint8_t>(0xa0 | key.size()));  // fixstr: keys are short
  out.insert(out.end(), key.begin(), key.end());
}

}  // namespace

void encodeOutputPayload(std::int64_t cmdId, int stream, std::string_view data, std::vector<std::uint8_t>& out) {
  out.clear();
  out.reserve(32 + data.size());
  out.push_back(0x83);  // a map of 3, keys in nlohmann's (sorted) order
  putKey(out, "cmd_id");
  putInt(out, cmdId);
  putKey(out, "data");
  const auto n = static_cast<std::uint64_t>(data.size());
  if (n <= 0xff) put(out, 0xc4, n, 1);
  else if (n <= 0xffff) put(out, 0xc5, n, 2);
  else put(out, 0xc6, n, 4);
  const std::size_t at = out.size();
  out.resize(at + data.size());
  if (!data.empty()) std::memcpy(out.data() + at, data.data(), data.size());
  putKey(out, "stream");
  putInt(out, stream);
}

}  // namespace bb
