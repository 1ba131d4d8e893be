#include "slave/command.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "slave/download_command.hpp"
#include "slave/git_command.hpp"
#include "slave/process_tree.hpp"
#include "slave/shell_command.hpp"
#include "slave/upload_command.hpp"
#include "slave/vcs/brz.hpp"
#include "slave/vcs/cvs.hpp"
#include "slave/vcs/darcs.hpp"
#include "slave/vcs/hg.hpp"
#include "slave/vcs/svn.hpp"
#include "slave/vcs/tla.hpp"

namespace bb {

namespace {
constexpr std::size_t kMaxCaptured = 64 * 1024;
}

std::unique_ptr<RemoteCommand> RemoteCommand::create(CommandContext& ctx, CommandSink& sink,
                                                     std::int64_t cmdId, const std::string& kind,
                                                     std::int64_t credit, const Json& args) {
  if (!args.is_object()) throw ProtocolError("field 'args' must be a map");
  if (credit < 0) throw ProtocolError("field 'credit' must not be negative");
  if (kind == "shell") return std::make_unique<ShellCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "git") return std::make_unique<GitCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "hg") return std::make_unique<vcs::HgCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "svn") return std::make_unique<vcs::SvnCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "darcs") return std::make_unique<vcs::DarcsCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "brz") return std::make_unique<vcs::BrzCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "cvs") return std::make_unique<vcs::CvsCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "tla") return std::make_unique<vcs::TlaCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "upload") return std::make_unique<UploadCommand>(ctx, sink, cmdId, credit, args);
  if (kind == "download") return std::make_unique<DownloadCommand>(ctx, sink, cmdId, credit, args);
  throw ProtocolError("unknown command kind '" + kind +
                      "' (this slave runs shell, git, hg, svn, darcs, brz, cvs, tla, upload and download)");
}

RemoteCommand::RemoteCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                             std::int64_t credit)
    : ctx_(ctx),
      sink_(sink),
      id_(cmdId),
      credit_(credit),
      timeoutTimer_(ctx.clock.makeTimer()),
      silenceTimer_(ctx.clock.makeTimer()),
      graceTimer_(ctx.clock.makeTimer()) {}

RemoteCommand::~RemoteCommand() {
  // Destroyed while a process still runs (the slave is exiting): leave no
  // survivors behind.
  if (process_ && !process_->finished()) {
    pid_t pid = process_->pid();
    std::vector<pid_t> pids = descendantsOf(pid);
    pids.push_back(pid);
    signalTree(pid, pids, SIGKILL);
  }
}

pid_t RemoteCommand::runningPid() const {
  return process_ && !process_->finished() ? process_->pid() : 0;
}

void RemoteCommand::setTimeouts(int timeoutSeconds, int maxSilenceSeconds) {
  timeoutSeconds_ = std::max(0, timeoutSeconds);
  maxSilenceSeconds_ = std::max(0, maxSilenceSeconds);
}

std::string RemoteCommand::describeTimeouts() const {
  std::string s;
  if (timeoutSeconds_ > 0) s = "timeout " + std::to_string(timeoutSeconds_) + " s";
  if (maxSilenceSeconds_ > 0)
    s += (s.empty() ? "" : ", ") + std::string("max_silence ") + std::to_string(maxSilenceSeconds_) + " s";
  return s;
}

void RemoteCommand::start() {
  started_ = ctx_.clock.now();
  if (timeoutSeconds_ > 0) {
    timeoutTimer_->start(std::chrono::seconds(timeoutSeconds_), [this] {
      killTree(KillCause::Timeout, "command timed out after " + std::to_string(timeoutSeconds_) +
                                       " s (timeout)");
    });
  }
  armSilenceTimer();
  begin();
}

void RemoteCommand::armSilenceTimer() {
  if (maxSilenceSeconds_ <= 0 || finished_ || killCause_ != KillCause::None) return;
  silenceTimer_->start(std::chrono::seconds(maxSilenceSeconds_), [this] {
    killTree(KillCause::Silence, "command timed out after " + std::to_string(maxSilenceSeconds_) +
                                     " s without output (max_silence)");
  });
}

void RemoteCommand::addCredit(std::int64_t bytes) {
  if (bytes <= 0) return;
  // Saturating: a window never nears this, and a sum must not overflow.
  constexpr std::int64_t kCap = std::int64_t{1} << 52;
  credit_ = credit_ > kCap - bytes ? kCap : credit_ + bytes;
  flush();
}

void RemoteCommand::interrupt(const std::string& reason) {
  killTree(KillCause::Interrupt, "interrupted: " + (reason.empty() ? "no reason given" : reason));
}

void RemoteCommand::detach(const std::string& reason) {
  if (detached_) return;
  detached_ = true;
  if (finished_) {
    // Only the CommandDone was waiting for credit: nobody will read it now.
    pendingDone_.reset();
    headerQueue_.clear();
    if (!complete_) {
      complete_ = true;
      sink_.commandComplete(this);
    }
    return;
  }
  killTree(KillCause::Interrupt, reason);
}

void RemoteCommand::header(const std::string& line) {
  if (detached_) return;
  headerQueue_.push_back(line + "\n");
  flush();
}

std::size_t RemoteCommand::allowance() const {
  if (detached_) return kMaxChunk;
  const std::size_t chunk = std::min(ctx_.maxChunk, kMaxChunk);
  // Header lines go first, so the streams stay in the order they happened.
  if (!headerQueue_.empty() || credit_ <= 0) return 0;
  return static_cast<std::size_t>(std::min<std::int64_t>(credit_, static_cast<std::int64_t>(chunk)));
}

void RemoteCommand::flush() {
  while (!detached_ && !headerQueue_.empty() && credit_ > 0) {
    std::string& front = headerQueue_.front();
    std::size_t n = std::min<std::size_t>(
        {front.size(), std::min(ctx_.maxChunk, kMaxChunk), static_cast<std::size_t>(credit_)});
    credit_ -= static_cast<std::int64_t>(n);
    sink_.sendOutput(id_, Stream::Header, std::string_view(front.data(), n));
    if (n == front.size())
      headerQueue_.pop_front();
    else
      front.erase(0, n);
  }
  if (!headerQueue_.empty() && !detached_) return;
  if (pendingDone_) {
    Json body = std::move(*pendingDone_);
    pendingDone_.reset();
    if (!detached_) sink_.sendDone(id_, body);
    complete_ = true;
    sink_.commandComplete(this);  // may schedule our destruction: touch nothing after
    return;
  }
  if (process_ && allowance() > 0) process_->resumeReading();
  if (!process_ && !finished_ && !detached_ && !inWindow_ && allowance() > 0) {
    // Last: it may finish the command (destroyed later, by a post).
    inWindow_ = true;
    onWindow();
    inWindow_ = false;
  }
}

void RemoteCommand::sendData(std::string_view data) {
  if (detached_ || data.empty()) return;
  credit_ -= static_cast<std::int64_t>(data.size());
  sink_.sendOutput(id_, Stream::Data, data);
}

void RemoteCommand::grantFileCredit(std::int64_t bytes) {
  if (!detached_ && bytes > 0) sink_.sendFileCredit(id_, bytes);
}

void RemoteCommand::onFileData(std::string_view, bool) {
  throw ProtocolError("FileData for command " + std::to_string(id_) + ", which is not a download");
}

bool RemoteCommand::runProcess(const std::vector<std::string>& argv, const std::string& workdir,
                               const std::map<std::string, std::string>& extraEnv, bool capture,
                               std::string& error) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.workdir = workdir;
  spec.env = ctx_.env;
  for (const auto& [k, v] : extraEnv) spec.env[k] = v;
  spec.env["PWD"] = workdir;
  capture_ = capture;
  captured_.clear();
  Process::Handlers h;
  h.allowance = [this] { return allowance(); };
  h.onOutput = [this](Stream s, const char* data, std::size_t size) { onOutput(s, data, size); };
  h.onFinished = [this](const ExitStatus& st) { onExit(st); };
  process_ = Process::spawn(ctx_.io, ctx_.reaper, spec, std::move(h), error);
  return process_ != nullptr;
}

void RemoteCommand::onOutput(Stream stream, const char* data, std::size_t size) {
  if (capture_ && stream == Stream::Stdout && captured_.size() < kMaxCaptured)
    captured_.append(data, std::min(size, kMaxCaptured - captured_.size()));
  if (!detached_) {
    credit_ -= static_cast<std::int64_t>(size);
    sink_.sendOutput(id_, stream, std::string_view(data, size));
  }
  armSilenceTimer();
}

void RemoteCommand::onExit(const ExitStatus& status) {
  if (killCause_ == KillCause::None) {
    onProcessFinished(status);
    return;
  }
  // The tree was told to die and the main child is gone: whatever ignored
  // SIGTERM gets SIGKILL now, so nothing outlives the command.
  if (!killed_) {
    pid_t pid = process_->pid();
    for (pid_t p : descendantsOf(pid))
      if (std::find(killedPids_.begin(), killedPids_.end(), p) == killedPids_.end())
        killedPids_.push_back(p);
    signalTree(pid, killedPids_, SIGKILL);
    killed_ = true;
  }
  // kill() only queues the signals: report once every pid is really gone,
  // so the next step never races the remains of this one.
  exitWatch_ = std::make_unique<ExitWatch>(ctx_.io, killedPids_, [this, status] {
    header("process tree killed");
    finish(status);
  });
}

void RemoteCommand::killTree(KillCause cause, const std::string& why) {
  if (finished_ || killCause_ != KillCause::None) return;
  killCause_ = cause;
  timeoutTimer_->cancel();
  silenceTimer_->cancel();
  if (!process_ || process_->finished()) {
    header(why);
    if (cause == KillCause::Interrupt || detached_) {
      ExitStatus none;
      finish(none);
    }
    return;
  }
  pid_t pid = process_->pid();
  killedPids_ = {pid};
  for (pid_t p : descendantsOf(pid)) killedPids_.push_back(p);
  header(why + "; killing process tree: pids " + formatPids(killedPids_));
  spdlog::info("command {}: {}; killing process tree: pids {}", id_, why, formatPids(killedPids_));
  signalTree(pid, killedPids_, SIGTERM);
  graceTimer_->start(std::chrono::seconds(ctx_.killGrace), [this] { onGraceExpired(); });
}

void RemoteCommand::onGraceExpired() {
  if (finished_ || !process_) return;
  pid_t pid = process_->pid();
  // Walk again: a process may have forked after the first walk.
  for (pid_t p : descendantsOf(pid))
    if (std::find(killedPids_.begin(), killedPids_.end(), p) == killedPids_.end())
      killedPids_.push_back(p);
  header("still running after " + std::to_string(ctx_.killGrace.count()) +
         " s; sending SIGKILL to pids " + formatPids(killedPids_));
  signalTree(pid, killedPids_, SIGKILL);
  killed_ = true;
  process_->abandonPipes();
}

void RemoteCommand::finish(const ExitStatus& status, Json props) {
  if (finished_) return;
  finished_ = true;
  timeoutTimer_->cancel();
  silenceTimer_->cancel();
  graceTimer_->cancel();
  double elapsed =
      std::chrono::duration<double>(ctx_.clock.now() - started_).count();
  if (status.exited() && status.exitCode < 0)
    header("command did not run");
  else
    header(status.describe());
  char buf[64];
  std::snprintf(buf, sizeof buf, "elapsed %.3f s", elapsed);
  header(buf);
  Json body = {{"cmd_id", id_},
               {"rc", status.exited() ? status.exitCode : -1},
               {"signal", status.signal},
               {"timed_out", killCause_ == KillCause::Timeout || killCause_ == KillCause::Silence},
               {"interrupted", killCause_ == KillCause::Interrupt},
               {"error", ""},
               {"props", props.is_object() ? props : Json::object()}};
  report(std::move(body));
}

void RemoteCommand::fail(const std::string& error) {
  if (finished_) return;
  finished_ = true;
  timeoutTimer_->cancel();
  silenceTimer_->cancel();
  graceTimer_->cancel();
  header("error: " + error);
  spdlog::warn("command {}: {}", id_, error);
  Json body = {{"cmd_id", id_},     {"rc", -1},       {"signal", 0},
               {"timed_out", false}, {"interrupted", killCause_ == KillCause::Interrupt},
               {"error", error},    {"props", Json::object()}};
  report(std::move(body));
}

void RemoteCommand::report(Json body) {
  pendingDone_ = std::move(body);
  flush();
}

}  // namespace bb
