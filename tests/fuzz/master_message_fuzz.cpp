// libFuzzer target: bytes from a peer through the master's own message
// handling, not only the frame decoder. The first byte picks where the
// stream starts: bit 0 set means in the login (ServerLogin, as MasterPort
// runs it), else in a slave session (RemoteSlave, with two commands
// running so that Output, CommandDone and Pong reach their handlers);
// bit 1 sends a valid SlaveInfo first. The rest is frames, handled until
// the master would close the connection. Nothing may crash, leak, hang,
// or let through a string that cannot be written out as JSON.
#include <cstddef>
#include <cstdint>

#include <boost/asio/io_context.hpp>

#include "common/connection.hpp"
#include "common/event_loop.hpp"
#include "common/frame.hpp"
#include "common/login.hpp"
#include "common/message.hpp"
#include "common/scram.hpp"
#include "master/slaves/remote_slave.hpp"

namespace {

// One loopback connection for the whole run: RemoteSlave needs one to
// queue its replies on (they are never written: the io_context never runs
// after setup).
struct World {
  boost::asio::io_context io;
  bb::ManualClock clock;
  std::unique_ptr<bb::Listener> listener;
  std::shared_ptr<bb::Connection> server, client;
  std::string verifier = bb::makeScramVerifier("pw", bb::kScramMinIterations);
  World() {
    bb::ConnectionOptions opts;
    opts.maxQueuedBytes = std::size_t{1} << 40;  // replies pile up unwritten
    listener = std::make_unique<bb::Listener>(io, "127.0.0.1", 0, opts,
                                              [this](std::shared_ptr<bb::Connection> c) { server = c; });
    bb::Connection::connect(io, "127.0.0.1", listener->port(), opts,
                            [this](std::shared_ptr<bb::Connection> c, const std::string&) { client = c; });
    while (!server || !client) io.run_one();
  }
};

World& world() {
  static World w;
  return w;
}

void mustSerialize(const bb::Json& j) { (void)j.dump(); }  // throws on bad UTF-8

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  World& w = world();
  const std::uint8_t mode = data[0];
  bb::FrameDecoder dec(64 * 1024);
  dec.feed(data + 1, size - 1);

  bb::ServerLogin login(
      [&w](const std::string& role, const std::string& name) -> std::optional<std::string> {
        if (role == "slave" && name == "s1") return w.verifier;
        return std::nullopt;
      },
      bb::Json{{"master", "fuzz"}, {"heartbeat_interval_ms", 1000}, {"heartbeat_timeout_ms", 3000},
               {"max_frame", 65536}});
  bool inLogin = (mode & 1) != 0;

  bb::RemoteSlave slave("s1", w.server, w.clock);
  if (mode & 2) {
    bb::Message info;
    info.type = bb::MsgType::SlaveInfo;
    info.body = bb::Json{{"host", "h"}, {"os", "o"}, {"cpus", 1}, {"version", "v"}, {"basedir", "/b"}};
    if (!slave.onMessage(std::move(info)).empty()) __builtin_trap();
  }
  for (int i = 0; i < 2; ++i) {
    bb::CommandHandlers h;
    h.onOutput = [&slave](int stream, std::string_view d) {
      // 0 stdout, 1 stderr, 2 header, 3 file-transfer data (protocol.md):
      // RemoteSlave refuses anything else before calling a handler.
      if (stream < 0 || stream > 3) __builtin_trap();
      slave.credit(1, static_cast<std::int64_t>(d.size()));  // as if stored at once
    };
    h.onDone = [](const bb::CommandOutcome& o) {
      mustSerialize(o.props);
      mustSerialize(bb::Json(o.error));
    };
    slave.startCommand("shell", bb::Json::object(), std::move(h));
  }
  slave.ping(std::chrono::milliseconds(1000), [](bool) {});

  bb::Frame f;
  while (dec.next(f) == bb::FrameDecoder::Status::Ready) {
    bb::Message m;
    try {
      m = bb::decodeMessage(f.type, f.payload);
    } catch (const bb::ProtocolError&) {
      break;  // the connection would be closed here
    }
    mustSerialize(m.body);
    if (inLogin) {
      const auto step = login.onMessage(m);
      if (step.hasReply) mustSerialize(step.reply.body);
      if (step.kind == bb::ServerLogin::Step::Failed) break;
      if (step.kind == bb::ServerLogin::Step::Done) inLogin = false;
      continue;
    }
    const std::string err = slave.onMessage(std::move(m));
    mustSerialize(bb::Json(err));  // it goes into an Error frame
    if (!err.empty()) break;
  }
  if (slave.hasInfo()) mustSerialize(slave.info());
  slave.onDisconnected("fuzz input ended");
  return 0;
}
