#include "common/message.hpp"

#include "common/frame.hpp"
#include "common/msgpack_decode.hpp"

#include <climits>
#include <cstdint>

namespace bb {

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not a
// well-formed one (RFC 3629, table 3-7 of the Unicode standard).
std::size_t utf8SequenceAt(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const std::size_t left = s.size() - i;
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c == 0xe0) { n = 3; lo = 0xa0; }
  else if (c == 0xed) { n = 3; hi = 0x9f; }  // no UTF-16 surrogates
  else if (c >= 0xe1 && c <= 0xef) n = 3;
  else if (c == 0xf0) { n = 4; lo = 0x90; }
  else if (c >= 0xf1 && c <= 0xf3) n = 4;
  else if (c == 0xf4) { n = 4; hi = 0x8f; }  // nothing above U+10FFFF
  else return 0;
  if (left < n || b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xbf) return 0;
  return n;
}

// Throws ProtocolError naming the first string (value or key) in `v` that
// is not UTF-8. `path` is the dotted field name so far. Depth is bounded
// by kMaxNesting, checked before the body was parsed.
void checkUtf8(const Json& v, const std::string& path, MsgType type) {
  auto fail = [&](const std::string& where) {
    throw ProtocolError(std::string(toString(type)) + ": field '" + where +
                        "' is not valid UTF-8");
  };
  if (v.is_string()) {
    if (!isValidUtf8(v.get_ref<const std::string&>())) fail(path);
  } else if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string where = (path.empty() ? "" : path + ".") + peerText(it.key(), 40);
      if (!isValidUtf8(it.key())) fail(where);
      checkUtf8(it.value(), where, type);
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i)
      checkUtf8(v[i], path + "[" + std::to_string(i) + "]", type);
  }
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8SequenceAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string peerText(std::string_view s, std::size_t max, bool escapeBackslash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = utf8SequenceAt(s, i);
    if (i + std::max<std::size_t>(n, 1) > max) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (n == 0 || c < 0x20 || c == 0x7f) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
      }
      ++i;
    } else if (c == '\\' && escapeBackslash) {
      out += "\\\\";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

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
    case MsgType::FileData: return "FileData";
    case MsgType::FileCredit: return "FileCredit";
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
    case Stream::Data: return "data";
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
  Json body;
  try {
    body = decodeMsgpack(payload.data(), payload.size(), kMaxNesting);
  } catch (const MsgpackError& e) {
    if (e.kind == MsgpackError::Kind::TooDeep)
      throw ProtocolError(std::string(toString(m.type)) + " body nests deeper than " +
                          std::to_string(kMaxNesting) + " levels");
    throw ProtocolError(std::string("undecodable MessagePack payload in ") +
                        std::string(toString(m.type)) + " frame: " + e.what());
  }
  if (!body.is_object())
    throw ProtocolError(std::string(toString(m.type)) + " body is not a map");
  checkUtf8(body, "", m.type);
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
