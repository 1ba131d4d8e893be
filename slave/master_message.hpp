#pragma once
// What the master may send a logged-in slave (docs/protocol.md sections
// 5-6), read and checked in one place, before the session acts on it.
// SlaveSession uses it; so does the slave-side fuzzer (tests/fuzz/), which
// must not start processes.
#include <cstdint>
#include <string>

#include "common/message.hpp"

namespace bb {

// Credit beyond this in one message is a protocol error (a window is
// never near it; it also keeps the slave's sums far from overflow).
inline constexpr std::int64_t kMaxCreditBytes = std::int64_t{1} << 32;

struct MasterMessage {
  MsgType type = MsgType::Heartbeat;
  std::int64_t id = 0;       // Ping id; cmd_id of RunCommand, Credit, Interrupt
  std::string kind;          // RunCommand: "shell" | "git" (checked by RemoteCommand)
  std::int64_t bytes = 0;    // RunCommand: initial credit; Credit: bytes added
  Json args = Json::object();  // RunCommand
  std::string text;          // Interrupt: reason; Error: "CODE: MESSAGE" (escaped)
  std::string data;          // FileData: the bytes (at most 64 KiB)
  bool eof = false;          // FileData: the last chunk
};

// Reads a session message from the master. Throws ProtocolError naming the
// problem for a missing or mistyped field, a credit outside 0..2^32 (1..2^32
// for Credit), or a type the master does not send in a slave session.
MasterMessage readMasterMessage(const Message& m);

}  // namespace bb
