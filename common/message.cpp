#include "common/message.hpp"

#include "common/frame.hpp"

#include <climits>
#include <cstdint>

namespace bb {

namespace {

// True unless the MessagePack value in [p, p+n) nests containers deeper
// than maxDepth. nlohmann's reader recurses once per level, so a small
// frame of nested arrays could otherwise exhaust the stack; this walk is
// iterative and linear. Truncated or invalid input returns true: the real
// decoder rejects it itself.
bool msgpackDepthWithin(const std::uint8_t* p, std::size_t n, std::size_t maxDepth) {
  std::vector<std::uint64_t> pending;  // items still to read in each open container
  std::size_t i = 0;
  auto be = [&](std::size_t k) {
    std::uint64_t v = 0;
    for (std::size_t j = 0; j < k; ++j) v = (v << 8) | p[i + j];
    return v;
  };
  do {
    if (!pending.empty()) {
      if (pending.back() == 0) {
        pending.pop_back();
        continue;
      }
      --pending.back();
    }
    if (i >= n) return true;
    const std::uint8_t b = p[i++];
    std::uint64_t items = 0, skip = 0;
    std::size_t lenBytes = 0;  // size field that follows the type byte
    bool container = false;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
    } else if (b <= 0x8f) { container = true; items = 2u * (b & 0x0f);
    } else if (b <= 0x9f) { container = true; items = b & 0x0f;
    } else if (b <= 0xbf) { skip = b & 0x1f;
    } else {
      switch (b) {
        case 0xc4: case 0xd9: lenBytes = 1; break;          // bin8, str8
        case 0xc5: case 0xda: lenBytes = 2; break;          // bin16, str16
        case 0xc6: case 0xdb: lenBytes = 4; break;          // bin32, str32
        case 0xc7: lenBytes = 1; skip = 1; break;           // ext8 (+type)
        case 0xc8: lenBytes = 2; skip = 1; break;
        case 0xc9: lenBytes = 4; skip = 1; break;
        case 0xca: skip = 4; break;
        case 0xcb: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break;
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: case 0xde: lenBytes = 2; container = true; break;  // array16, map16
        case 0xdd: case 0xdf: lenBytes = 4; container = true; break;  // array32, map32
        default: return true;  // 0xc1 never appears; the decoder rejects it
      }
      if (lenBytes) {
        if (lenBytes > n - i) return true;
        const std::uint64_t len = be(lenBytes);
        i += lenBytes;
        if (container) items = (b == 0xde || b == 0xdf) ? 2 * len : len;
        else skip += len;
      }
    }
    if (skip > n - i) return true;
    i += skip;
    if (container) {
      if (pending.size() >= maxDepth) return false;
      pending.push_back(items);
    }
  } while (!pending.empty());
  return true;
}

}  // namespace

std::string_view toString(MsgType t) {
  switch (t) {
    case MsgType::Hello: return "Hello";
    case MsgType::AuthChallenge: return "AuthChallenge";
    case MsgType::AuthProof: return "AuthProof";
    case MsgType::Welcome: return "Welcome";
    case MsgType::Error: return "Error";
    case MsgType::Heartbeat: return "Heartbeat";
    case MsgType::Ping: return "Ping";
    case MsgType::Pong: return "Pong";
    case MsgType::SlaveInfo: return "SlaveInfo";
    case MsgType::RunCommand: return "RunCommand";
    case MsgType::Output: return "Output";
    case MsgType::Credit: return "Credit";
    case MsgType::CommandDone: return "CommandDone";
    case MsgType::Interrupt: return "Interrupt";
    case MsgType::ShutdownRequest: return "ShutdownRequest";
    case MsgType::ShutdownReady: return "ShutdownReady";
    case MsgType::Request: return "Request";
    case MsgType::Response: return "Response";
    case MsgType::Events: return "Events";
  }
  return "Unknown";
}

bool isKnownType(std::uint16_t t) {
  return toString(static_cast<MsgType>(t)) != "Unknown";
}

std::string_view toString(Stream s) {
  switch (s) {
    case Stream::Stdout: return "stdout";
    case Stream::Stderr: return "stderr";
    case Stream::Header: return "header";
  }
  return "unknown";
}

void encodeMessage(const Message& m, std::vector<std::uint8_t>& out) {
  const std::vector<std::uint8_t> payload = Json::to_msgpack(m.body);
  encodeFrame(static_cast<std::uint16_t>(m.type), payload.data(), payload.size(), out);
}

Message decodeMessage(std::uint16_t type, const std::vector<std::uint8_t>& payload) {
  if (!isKnownType(type)) throw ProtocolError("unknown message type " + std::to_string(type));
  Message m;
  m.type = static_cast<MsgType>(type);
  if (payload.empty()) return m;  // an empty payload is an empty map
  if (!msgpackDepthWithin(payload.data(), payload.size(), kMaxNesting))
    throw ProtocolError(std::string(toString(m.type)) + " body nests deeper than " +
                        std::to_string(kMaxNesting) + " levels");
  Json body = Json::from_msgpack(payload, /*strict=*/true, /*allow_exceptions=*/false);
  if (body.is_discarded())
    throw ProtocolError(std::string("undecodable MessagePack payload in ") +
                        std::string(toString(m.type)) + " frame");
  if (!body.is_object())
    throw ProtocolError(std::string(toString(m.type)) + " body is not a map");
  m.body = std::move(body);
  return m;
}

namespace {
[[noreturn]] void bad(const char* field, const char* what) {
  throw ProtocolError(std::string("field '") + field + "' " + what);
}
const Json& need(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end()) bad(field, "is missing");
  return *it;
}
}  // namespace

std::string getString(const Json& body, const char* field) {
  const Json& v = need(body, field);
  if (!v.is_string()) bad(field, "must be a string");
  return v.get<std::string>();
}
std::int64_t getInt(const Json& body, const char* field) {
  const Json& v = need(body, field);
  if (!v.is_number_integer()) bad(field, "must be an integer");
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) bad(field, "is out of range");
  return v.get<std::int64_t>();
}
bool getBool(const Json& body, const char* field) {
  const Json& v = need(body, field);
  if (!v.is_boolean()) bad(field, "must be a boolean");
  return v.get<bool>();
}
const Json& getObject(const Json& body, const char* field) {
  const Json& v = need(body, field);
  if (!v.is_object()) bad(field, "must be a map");
  return v;
}
const Json& getArray(const Json& body, const char* field) {
  const Json& v = need(body, field);
  if (!v.is_array()) bad(field, "must be an array");
  return v;
}
std::optional<std::string> optString(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad(field, "must be a string");
  return it->get<std::string>();
}
std::optional<std::int64_t> optInt(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) bad(field, "must be an integer");
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > INT64_MAX) bad(field, "is out of range");
  return it->get<std::int64_t>();
}

}  // namespace bb
