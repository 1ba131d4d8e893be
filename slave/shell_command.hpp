#pragma once
// The `shell` command: runs argv (or a string with /bin/sh -c) in a
// workdir under the slave basedir, with extra environment, a total
// timeout and a max_silence timeout.
#include "slave/command.hpp"

namespace bb {

class ShellCommand : public RemoteCommand {
 public:
  // Reads args {argv:[..] | command:"..", workdir, env, timeout,
  // max_silence}; throws ProtocolError if they are malformed.
  ShellCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
               const Json& args);

 protected:
  void begin() override;
  void onProcessFinished(const ExitStatus& status) override;

 private:
  std::vector<std::string> argv_;
  std::string workdir_;
  std::map<std::string, std::string> env_;
};

// Shell-quotes each word where needed and joins them with spaces, for
// header lines that a user can paste into a shell.
std::string quoteArgv(const std::vector<std::string>& argv);

}  // namespace bb
