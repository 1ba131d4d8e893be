#pragma once
// One authenticated slave connection as the master sees it: remote
// commands with ids, output with credit-based flow control, pings, and
// the graceful-shutdown handshake (ShutdownRequest / ShutdownReady).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/connection.hpp"
#include "common/event_loop.hpp"

namespace bb {

// Outcome of a remote command as reported by CommandDone, or synthesized
// when the slave goes away (lost = true).
struct CommandOutcome {
  int rc = -1;
  int signal = 0;
  bool timedOut = false;
  bool interrupted = false;
  bool lost = false;
  std::string error;
  Json props = Json::object();
};

struct CommandHandlers {
  // Called for every output chunk. The slave gets its window back only
  // through credit(), which the handler's owner calls once the bytes are
  // stored: a master that stores slowly slows the build's output.
  std::function<void(int stream, std::string_view data)> onOutput;
  std::function<void(const CommandOutcome&)> onDone;
  // A download's FileCredit: the slave takes `bytes` more FileData.
  // Without it, a FileCredit for the command breaks the protocol.
  std::function<void(std::int64_t bytes)> onFileCredit;
};

class RemoteSlave {
 public:
  // Initial output window per command, in bytes.
  static constexpr std::size_t kInitialCredit = 512 * 1024;
  // Largest `data` of one Output (docs/protocol.md section 6).
  static constexpr std::size_t kMaxOutputChunk = 64 * 1024;

  RemoteSlave(std::string name, std::shared_ptr<Connection> conn, Clock& clock);
  ~RemoteSlave();

  const std::string& name() const { return name_; }
  const Json& info() const { return info_; }
  // The slave sent a valid SlaveInfo; no build is started on it before.
  bool hasInfo() const { return hasInfo_; }
  const std::string& peer() const { return conn_->peer(); }
  bool connected() const { return connected_; }
  // The slave sent ShutdownRequest: it finishes its builds and gets no new
  // ones. Lasts for this connection only (a new login is a fresh session).
  bool draining() const { return draining_; }
  // The master drains the slave without its asking (a graceful stop from
  // the web): draining() from now on, and the ShutdownReady carries
  // `reason` (the slave then stops as if it had asked).
  void drainFromMaster(const std::string& reason) {
    draining_ = true;
    stopReason_ = reason;
  }

  // Sends RunCommand; handlers run on the master thread. Returns the id.
  std::int64_t startCommand(const std::string& kind, Json args, CommandHandlers h);
  // Gives `bytes` of output window back to a running command (a Credit
  // frame); ignored once the command has ended or the slave is gone.
  void credit(std::int64_t cmdId, std::int64_t bytes);
  // Sends one FileData chunk (at most kMaxOutputChunk) of a download;
  // the caller keeps within the window the slave granted. False once the
  // command has ended or the slave is gone.
  bool sendFileData(std::int64_t cmdId, std::string_view data, bool eof);
  // Sends Interrupt for a running command (CommandDone follows).
  void interrupt(std::int64_t cmdId, const std::string& reason);
  // Sends Ping; `done(true)` on the Pong, `done(false)` after `timeout` or
  // on disconnect.
  void ping(std::chrono::milliseconds timeout, std::function<void(bool)> done);

  // Dispatches one message from the slave. Returns an error text for a
  // message that breaks the protocol (the caller closes the connection
  // with Error {protocol_error}): a SlaveInfo that is repeated, late (not
  // the first message) or has a missing or mistyped field; Output beyond
  // the command's credit window or over kMaxOutputChunk; Output or
  // CommandDone for a command id this connection never started or that
  // already ended; any field of the wrong type; a master-only type.
  // An Error from the slave returns "slave sent error: ..." too.
  std::string onMessage(Message&& m);
  // The connection is gone: every running command ends, with lost = true
  // (the build is retried) unless the connection was closed because the
  // slave broke the protocol: then with error "slave NAME broke the
  // protocol: REASON" (the build ends EXCEPTION, not retried).
  void onDisconnected(const std::string& reason);
  // Closes the connection with an Error frame.
  void disconnect(const std::string& code, const std::string& message);
  // Sends ShutdownReady (once per connection): the draining slave has no
  // builds left and may disconnect and exit. False if already sent or
  // disconnected.
  bool sendShutdownReady();

  std::size_t runningCommands() const { return commands_.size(); }

 private:
  std::string name_;
  std::shared_ptr<Connection> conn_;
  Clock& clock_;
  Json info_ = Json::object();
  bool connected_ = true;
  bool hasInfo_ = false;
  bool draining_ = false;
  bool toldReady_ = false;
  std::string stopReason_;  // set by drainFromMaster
  std::int64_t nextCmd_ = 1;
  struct RunningCommand {
    CommandHandlers handlers;
    std::int64_t window = 0;  // output bytes the slave may still send
  };
  std::map<std::int64_t, RunningCommand> commands_;
  std::string onSlaveInfo(const Json& body);
  std::string onOutput(const Json& body);
  std::string onCommandDone(const Json& body);
  std::string onFileCredit(const Json& body);
  // Why `id` names no running command ("never started" / "already ended").
  std::string unknownCommand(const char* what, std::int64_t id) const;
  struct PendingPing {
    std::unique_ptr<Timer> timer;
    std::function<void(bool)> done;
  };
  std::int64_t nextPing_ = 1;
  std::map<std::int64_t, PendingPing> pings_;
};

}  // namespace bb
