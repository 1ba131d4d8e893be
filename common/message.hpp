#pragma once
// Protocol messages: a frame type plus a MessagePack-encoded map body.
// docs/protocol.md is the specification of every type and field.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace bb {

using Json = nlohmann::json;

inline constexpr int kProtocolVersion = 1;
inline constexpr const char* kProtocolName = "bbcpp";
// Deepest nesting of maps/arrays a message body may have.
inline constexpr std::size_t kMaxNesting = 64;

enum class MsgType : std::uint16_t {
  // Handshake (both roles)
  Hello = 1,          // peer -> master: versions, role, SCRAM client-first
  AuthChallenge = 2,  // master -> peer: chosen version, SCRAM server-first
  AuthProof = 3,      // peer -> master: SCRAM client-final
  Welcome = 4,        // master -> peer: SCRAM server-final, session settings
  Error = 5,          // either way: code + message; the sender then closes
  // Liveness (both roles)
  Heartbeat = 10,
  Ping = 11,  // master -> slave before a claim; answered by Pong
  Pong = 12,
  // Slave session
  SlaveInfo = 20,    // slave -> master: host information
  RunCommand = 21,   // master -> slave: start a remote command
  Output = 22,       // slave -> master: a chunk of a command's output
  Credit = 23,       // master -> slave: more output bytes may be sent
  CommandDone = 24,  // slave -> master: exit code / signal / error
  Interrupt = 25,    // master -> slave: kill a running command
  ShutdownRequest = 26,  // slave -> master: finish my builds, start no new ones
  ShutdownReady = 27,    // master -> slave: no builds left on you; disconnect and exit
  FileData = 28,     // master -> slave: a chunk of a download (within the slave's window)
  FileCredit = 29,   // slave -> master: more download bytes may be sent
  // Client session (buildbot sendchange/force/status)
  Request = 40,   // client -> master: {id, method, params}
  Response = 41,  // master -> client: {id, ok, result | error}
  Events = 42,    // master -> client: events of a subscription (pushed)
};

std::string_view toString(MsgType t);
bool isKnownType(std::uint16_t t);

struct Message {
  MsgType type = MsgType::Heartbeat;
  Json body = Json::object();
};

// Thrown for any payload that does not decode to a valid message.
struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Encodes `m` as one complete frame appended to `out`.
void encodeMessage(const Message& m, std::vector<std::uint8_t>& out);

// Decodes a frame's type and payload. Throws ProtocolError for an unknown
// type, a payload that is not MessagePack, a body that is not a map, or a
// string (a value or a map key, at any depth) that is not valid UTF-8 (the
// error names the field, e.g. "field 'props.got_revision' is not valid
// UTF-8"). So every string a handler sees can be stored and sent on.
Message decodeMessage(std::uint16_t type, const std::vector<std::uint8_t>& payload);

// Field accessors that throw ProtocolError naming the field on a missing or
// mistyped value, so handlers read bodies without repeating checks.
std::string getString(const Json& body, const char* field);
std::int64_t getInt(const Json& body, const char* field);
bool getBool(const Json& body, const char* field);
const Json& getObject(const Json& body, const char* field);
const Json& getArray(const Json& body, const char* field);
std::optional<std::string> optString(const Json& body, const char* field);
std::optional<std::int64_t> optInt(const Json& body, const char* field);

// True if `s` is well-formed UTF-8 (no overlong forms, surrogates, or code
// points above U+10FFFF).
bool isValidUtf8(std::string_view s);

// Text a peer sent, made safe for a log line or an Error message: control
// characters, '\\' and bytes that are not UTF-8 are escaped (\n, \\,
// \xff), so a name cannot forge a log line or make us send bad UTF-8. At
// most `max` bytes of `s` are kept, cut on a character boundary and
// followed by "... (N bytes)". With escapeBackslash false a '\\' stays as
// it is (the log sink's mode: it only has to keep every line one line).
std::string peerText(std::string_view s, std::size_t max = 200, bool escapeBackslash = true);

// Output streams of a remote command.
// Data (3) is an upload's file or archive bytes, not log output.
enum class Stream : int { Stdout = 0, Stderr = 1, Header = 2, Data = 3 };
std::string_view toString(Stream s);

}  // namespace bb
