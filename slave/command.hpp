#pragma once
// A remote command run by the slave for the master (RunCommand): the
// common part of `shell` and `git`. It owns the output credit, the header
// stream, the timeouts, the killing of the process tree and the
// CommandDone report; subclasses decide which processes to run.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_loop.hpp"
#include "common/message.hpp"
#include "slave/process.hpp"
#include "slave/process_tree.hpp"

namespace bb {

class RemoteCommand;

// Where a command's messages go (the slave session, or a test).
class CommandSink {
 public:
  virtual ~CommandSink() = default;
  // An Output message body's contents; never more than the credit held.
  virtual void sendOutput(std::int64_t cmdId, Stream stream, std::string_view data) = 0;
  // A complete CommandDone body.
  virtual void sendDone(std::int64_t cmdId, const Json& body) = 0;
  // The command has reported (or, if detached, finished): the owner may
  // destroy it. Called from inside the command; destroy it later (post).
  virtual void commandComplete(RemoteCommand* cmd) = 0;
  // A FileCredit body: the master may send `bytes` more of a download.
  virtual void sendFileCredit(std::int64_t cmdId, std::int64_t bytes) {}
};

// What every command needs from the slave.
struct CommandContext {
  boost::asio::io_context& io;
  Clock& clock;
  ChildReaper& reaper;
  std::string basedir;                     // absolute
  std::chrono::seconds killGrace{5};       // SIGTERM -> SIGKILL
  std::map<std::string, std::string> env;  // the slave's environment
  // Largest Output chunk (64 KiB, less if the master's max_frame is small).
  std::size_t maxChunk = 64 * 1024;
};

class RemoteCommand {
 public:
  static constexpr std::size_t kMaxChunk = 64 * 1024;

  // Builds a command of `kind` ("shell" or "git") from RunCommand args.
  // Throws ProtocolError for an unknown kind or malformed args.
  static std::unique_ptr<RemoteCommand> create(CommandContext& ctx, CommandSink& sink,
                                               std::int64_t cmdId, const std::string& kind,
                                               std::int64_t credit, const Json& args);
  virtual ~RemoteCommand();
  RemoteCommand(const RemoteCommand&) = delete;
  RemoteCommand& operator=(const RemoteCommand&) = delete;

  // Starts the command; it may complete synchronously (e.g. a bad workdir).
  void start();
  // Adds to the output window (Credit) and resumes reading.
  void addCredit(std::int64_t bytes);
  // Kills the process tree; CommandDone follows with interrupted:true.
  void interrupt(const std::string& reason);
  // The master is gone: drop all further output and the CommandDone,
  // kill the tree, and call commandComplete once it is dead.
  void detach(const std::string& reason);
  // A FileData chunk from the master (a download). Throws ProtocolError
  // for a command that takes none, or for data beyond the window granted.
  virtual void onFileData(std::string_view data, bool eof);

  std::int64_t id() const { return id_; }
  std::int64_t credit() const { return credit_; }
  bool complete() const { return complete_; }
  // The pid of the running process (0 if none).
  pid_t runningPid() const;
  // Every pid signalled by the last tree kill (for tests and logs).
  const std::vector<pid_t>& killedPids() const { return killedPids_; }

 protected:
  RemoteCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit);

  // Subclass hooks: begin() starts the first process (or finishes);
  // onProcessFinished() runs when a process ended without being killed.
  virtual void begin() = 0;
  virtual void onProcessFinished(const ExitStatus& status) = 0;

  // Sets the total and the silence timeout (0 = none); call before start.
  void setTimeouts(int timeoutSeconds, int maxSilenceSeconds);
  // "timeout 1200 s, max_silence 60 s" for the header; "" if neither is set.
  std::string describeTimeouts() const;
  // Queues one header line (a newline is added).
  void header(const std::string& line);
  // Runs argv in `workdir` with the slave env + `extraEnv` (+ PWD). When
  // `capture` is set, stdout is also kept (up to 64 KiB) for captured().
  // On failure, returns false with `error` set.
  bool runProcess(const std::vector<std::string>& argv, const std::string& workdir,
                  const std::map<std::string, std::string>& extraEnv, bool capture,
                  std::string& error);
  const std::string& captured() const { return captured_; }
  // Commands without a process (file transfers): onWindow() runs whenever
  // the output window has room (after start and after each Credit), and
  // sendData() sends an upload's bytes (Stream::Data) within it.
  virtual void onWindow() {}
  std::size_t dataAllowance() const { return allowance(); }
  void sendData(std::string_view data);
  // Lets the master send `bytes` more of a download (FileCredit).
  void grantFileCredit(std::int64_t bytes);
  bool detached() const { return detached_; }
  bool ended() const { return finished_; }
  // Ends the command with the process status and properties.
  void finish(const ExitStatus& status, Json props = Json::object());
  // Ends the command without running it: rc -1 and `error`.
  void fail(const std::string& error);

  CommandContext& ctx_;

 private:
  enum class KillCause { None, Timeout, Silence, Interrupt };
  void killTree(KillCause cause, const std::string& why);
  void onGraceExpired();
  void onOutput(Stream stream, const char* data, std::size_t size);
  void onExit(const ExitStatus& status);
  void report(Json body);
  void flush();
  std::size_t allowance() const;
  void armSilenceTimer();

  CommandSink& sink_;
  std::int64_t id_;
  std::int64_t credit_;
  int timeoutSeconds_ = 0;
  int maxSilenceSeconds_ = 0;
  SteadyTime started_{};
  std::unique_ptr<Timer> timeoutTimer_;
  std::unique_ptr<Timer> silenceTimer_;
  std::unique_ptr<Timer> graceTimer_;
  std::unique_ptr<Process> process_;
  std::unique_ptr<ExitWatch> exitWatch_;  // waits for a killed tree to be gone
  bool capture_ = false;
  std::string captured_;
  std::deque<std::string> headerQueue_;
  std::optional<Json> pendingDone_;
  KillCause killCause_ = KillCause::None;
  bool killed_ = false;  // SIGKILL sent
  bool detached_ = false;
  bool finished_ = false;
  bool complete_ = false;
  bool inWindow_ = false;  // onWindow() is on the stack
  std::vector<pid_t> killedPids_;
};

}  // namespace bb
