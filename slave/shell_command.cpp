#include "slave/shell_command.hpp"

#include "slave/workdir.hpp"

namespace bb {

std::string quoteArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

ShellCommand::ShellCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                           std::int64_t credit, const Json& args)
    : RemoteCommand(ctx, sink, cmdId, credit) {
  if (args.contains("argv")) {
    for (const Json& a : getArray(args, "argv")) {
      if (!a.is_string()) throw ProtocolError("field 'argv' must be an array of strings");
      argv_.push_back(a.get<std::string>());
    }
    if (argv_.empty()) throw ProtocolError("field 'argv' must not be empty");
  } else if (args.contains("command")) {
    argv_ = {"/bin/sh", "-c", getString(args, "command")};
  } else {
    throw ProtocolError("shell command needs 'argv' or 'command'");
  }
  workdir_ = optString(args, "workdir").value_or("");
  if (args.contains("env") && !args["env"].is_null()) {
    for (const auto& [k, v] : getObject(args, "env").items()) {
      if (!v.is_string()) throw ProtocolError("env value '" + k + "' must be a string");
      env_[k] = v.get<std::string>();
    }
  }
  setTimeouts(static_cast<int>(optInt(args, "timeout").value_or(0)),
              static_cast<int>(optInt(args, "max_silence").value_or(0)));
}

void ShellCommand::begin() {
  std::string error;
  auto dir = resolveWorkdir(ctx_.basedir, workdir_, error);
  if (!dir) return fail(error);
  header("running: " + quoteArgv(argv_));
  header("in dir: " + *dir);
  if (std::string t = describeTimeouts(); !t.empty()) header(t);
  for (const auto& [k, v] : env_) header("env: " + k + "=" + v);
  if (!runProcess(argv_, *dir, env_, false, error)) fail(error);
}

void ShellCommand::onProcessFinished(const ExitStatus& status) { finish(status); }

}  // namespace bb
