#include "common/message.hpp"

#include "common/frame.hpp"

namespace bb {

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
    case MsgType::Request: return "Request";
    case MsgType::Response: return "Response";
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
  return it->get<std::int64_t>();
}

}  // namespace bb
