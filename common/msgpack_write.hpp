#pragma once
// MessagePack written straight into a byte vector, for the few bodies that
// are made often enough for a Json value in between to cost (a slave's
// Output frames, every event a client is sent). Each form is the one
// nlohmann::json::to_msgpack picks for the same value (the smallest that
// holds it), so what these write is byte for byte what a Json would give.
#include <cstdint>
#include <string_view>
#include <vector>

namespace bb::msgpack {

// A type byte, then the low `bytes` bytes of v, most significant first.
inline void put(std::vector<std::uint8_t>& out, std::uint8_t tag, std::uint64_t v, int bytes) {
  out.push_back(tag);
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

inline void putUnsigned(std::vector<std::uint8_t>& out, std::uint64_t u) {
  if (u < 128) out.push_back(static_cast<std::uint8_t>(u));
  else if (u <= 0xff) put(out, 0xcc, u, 1);
  else if (u <= 0xffff) put(out, 0xcd, u, 2);
  else if (u <= 0xffffffffULL) put(out, 0xce, u, 4);
  else put(out, 0xcf, u, 8);
}

// Unsigned forms for v >= 0, signed ones below.
inline void putInt(std::vector<std::uint8_t>& out, std::int64_t v) {
  if (v >= 0) {
    putUnsigned(out, static_cast<std::uint64_t>(v));
    return;
  }
  const auto u = static_cast<std::uint64_t>(v);
  if (v >= -32) out.push_back(static_cast<std::uint8_t>(v));
  else if (v >= INT8_MIN) put(out, 0xd0, u, 1);
  else if (v >= INT16_MIN) put(out, 0xd1, u, 2);
  else if (v >= INT32_MIN) put(out, 0xd2, u, 4);
  else put(out, 0xd3, u, 8);
}

inline void putString(std::vector<std::uint8_t>& out, std::string_view s) {
  const auto n = static_cast<std::uint64_t>(s.size());
  if (n <= 31) out.push_back(static_cast<std::uint8_t>(0xa0 | n));
  else if (n <= 0xff) put(out, 0xd9, n, 1);
  else if (n <= 0xffff) put(out, 0xda, n, 2);
  else put(out, 0xdb, n, 4);
  out.insert(out.end(), s.begin(), s.end());
}

inline void putBinaryHeader(std::vector<std::uint8_t>& out, std::size_t size) {
  const auto n = static_cast<std::uint64_t>(size);
  if (n <= 0xff) put(out, 0xc4, n, 1);
  else if (n <= 0xffff) put(out, 0xc5, n, 2);
  else put(out, 0xc6, n, 4);
}

inline void putArrayHeader(std::vector<std::uint8_t>& out, std::size_t size) {
  const auto n = static_cast<std::uint64_t>(size);
  if (n <= 15) out.push_back(static_cast<std::uint8_t>(0x90 | n));
  else if (n <= 0xffff) put(out, 0xdc, n, 2);
  else put(out, 0xdd, n, 4);
}

inline void putMapHeader(std::vector<std::uint8_t>& out, std::size_t size) {
  const auto n = static_cast<std::uint64_t>(size);
  if (n <= 15) out.push_back(static_cast<std::uint8_t>(0x80 | n));
  else if (n <= 0xffff) put(out, 0xde, n, 2);
  else put(out, 0xdf, n, 4);
}

}  // namespace bb::msgpack
