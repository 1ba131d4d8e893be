#include "slave/master_message.hpp"

namespace bb {

MasterMessage readMasterMessage(const Message& m) {
  const Json& b = m.body;
  MasterMessage out;
  out.type = m.type;
  switch (m.type) {
    case MsgType::Heartbeat:
      break;
    case MsgType::ShutdownReady:
      // Set when the master stops this slave without its asking (a graceful
      // stop from the web): who and why.
      out.text = optString(b, "reason").value_or("");
      break;
    case MsgType::Ping:
      out.id = getInt(b, "id");
      break;
    case MsgType::RunCommand:
      out.id = getInt(b, "cmd_id");
      out.kind = getString(b, "kind");
      out.bytes = getInt(b, "credit");
      if (out.bytes < 0 || out.bytes > kMaxCreditBytes)
        throw ProtocolError("field 'credit' must be between 0 and " + std::to_string(kMaxCreditBytes));
      out.args = getObject(b, "args");
      break;
    case MsgType::Credit:
      out.id = getInt(b, "cmd_id");
      out.bytes = getInt(b, "bytes");
      if (out.bytes < 1 || out.bytes > kMaxCreditBytes)
        throw ProtocolError("field 'bytes' must be between 1 and " + std::to_string(kMaxCreditBytes));
      break;
    case MsgType::FileData: {
      out.id = getInt(b, "cmd_id");
      auto d = b.find("data");
      if (d == b.end() || !d->is_binary()) throw ProtocolError("field 'data' must be binary (MessagePack bin)");
      const auto& bin = d->get_binary();
      if (bin.size() > 64 * 1024) throw ProtocolError("FileData of " + std::to_string(bin.size()) + " bytes exceeds the chunk limit of 65536");
      out.data.assign(bin.begin(), bin.end());
      if (auto e = b.find("eof"); e != b.end() && !e->is_null()) {
        if (!e->is_boolean()) throw ProtocolError("field 'eof' must be a boolean");
        out.eof = e->get<bool>();
      }
      break;
    }
    case MsgType::Interrupt:
      out.id = getInt(b, "cmd_id");
      out.text = optString(b, "reason").value_or("");
      break;
    case MsgType::Error: {
      // Tolerant: it only explains the close that follows.
      auto field = [&](const char* f) {
        auto it = b.find(f);
        return it != b.end() && it->is_string() ? peerText(it->get<std::string>()) : std::string("?");
      };
      out.text = field("code") + ": " + field("message");
      break;
    }
    default:
      throw ProtocolError("unexpected " + std::string(toString(m.type)) + " from the master");
  }
  return out;
}

}  // namespace bb
