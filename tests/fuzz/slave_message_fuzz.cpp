// libFuzzer target: bytes from a master through the slave's own message
// handling: the login (ClientLogin, as SlaveSession runs it), then each
// session message read by readMasterMessage (slave/master_message.hpp),
// and a RunCommand's arguments through RemoteCommand::create, which
// builds a shell or git command without starting it (a fuzzer must never
// run the commands it invents). Bit 0 of the first byte starts in the
// login; the rest is frames.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "common/event_loop.hpp"
#include "common/frame.hpp"
#include "common/login.hpp"
#include "common/message.hpp"
#include "slave/child_reaper.hpp"
#include "slave/command.hpp"
#include "slave/master_message.hpp"

namespace {

struct NullSink : bb::CommandSink {
  void sendOutput(std::int64_t, bb::Stream, std::string_view) override {}
  void sendDone(std::int64_t, const bb::Json& body) override { (void)body.dump(); }
  void commandComplete(bb::RemoteCommand*) override {}
};

struct World {
  boost::asio::io_context io;
  bb::ManualClock clock;
  bb::ChildReaper reaper{io};
  NullSink sink;
  bb::CommandContext ctx{io, clock, reaper, "/nonexistent/fuzz-basedir"};
};

World& world() {
  static World w;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  World& w = world();
  bb::FrameDecoder dec(64 * 1024);
  dec.feed(data + 1, size - 1);
  bb::ClientLogin login("slave", "s1", "pw");
  login.setNonceForTesting("fuzznonce");
  (void)login.hello();
  bool inLogin = (data[0] & 1) != 0;
  std::map<std::int64_t, std::unique_ptr<bb::RemoteCommand>> commands;

  bb::Frame f;
  while (dec.next(f) == bb::FrameDecoder::Status::Ready) {
    try {
      const bb::Message m = bb::decodeMessage(f.type, f.payload);
      if (inLogin) {
        const auto step = login.onMessage(m);
        if (step.kind == bb::ClientLogin::Step::Failed) break;
        if (step.kind == bb::ClientLogin::Step::Done) inLogin = false;
        continue;
      }
      const bb::MasterMessage msg = bb::readMasterMessage(m);
      if (msg.type == bb::MsgType::RunCommand) {
        if (commands.count(msg.id) || commands.size() >= 8) break;  // the session would refuse
        try {
          commands[msg.id] = bb::RemoteCommand::create(w.ctx, w.sink, msg.id, msg.kind, msg.bytes, msg.args);
        } catch (const bb::ProtocolError&) {
          // answered with a failed CommandDone; the session goes on
        }
      } else if (msg.type == bb::MsgType::Credit) {
        if (auto it = commands.find(msg.id); it != commands.end()) it->second->addCredit(msg.bytes);
      }
    } catch (const bb::ProtocolError&) {
      break;  // Error protocol_error, then close
    }
  }
  return 0;
}
