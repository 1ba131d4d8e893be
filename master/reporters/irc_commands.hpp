#pragma once
// What the IRC bot answers: one command (`help`, `list ...`, `status`,
// `force ...`, ...) from one nick, as reply text. Reads go through the
// same JSON views and RpcHandler methods the client and web use; control
// (force, submit, stop, cancel) through RpcHandler::callChecked once the
// nick matched an `authorized` pattern. Bad input (an unknown command,
// bad arguments, a nick not authorised, an RpcError) is answered in
// words; only a bug throws. The channels' `notify` settings and the
// `watch` requests live here too: the reporter reads them when events
// come. docs/notifiers.md lists the commands.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "master/db/records.hpp"
#include "master/reporters/irc_config.hpp"
#include "master/reporters/reporter.hpp"

namespace bb {

class IrcCommands {
 public:
  IrcCommands(const IrcOptions& opts, ReporterServices& services, std::string reporterName);

  // The answer to `text` (the command, without the "nick:" address) from
  // `nick`; `channel` is where it was said ("" for a private message).
  // Each string is one reply line.
  std::vector<std::string> run(const std::string& nick, const std::string& channel, const std::string& text);

  // The events `channel` is told of.
  const std::set<IrcEvent>& notify(const std::string& channel);
  const std::map<std::string, std::set<IrcEvent>>& notifications() const { return notify_; }
  // Whom to tell that build `buildId` ended (each once); forgets them.
  std::vector<std::string> takeWatchers(std::int64_t buildId);

  // "b1 #3: failure (failed test) http://.../builders/b1/builds/3".
  std::string describeBuild(const db::BuildRecord& b) const;

 private:
  using Args = std::vector<std::string>;
  std::vector<std::string> help() const;
  std::vector<std::string> list(const Args& a);
  std::vector<std::string> status(const Args& a);
  std::vector<std::string> last(const Args& a);
  std::vector<std::string> watch(const Args& a, const std::string& replyTo);
  std::vector<std::string> notifyCommand(const Args& a, const std::string& channel);
  std::vector<std::string> changeStatus(const Args& a);
  std::vector<std::string> scheduler(const Args& a);
  std::vector<std::string> force(const Args& a, const std::string& nick);
  std::vector<std::string> submit(const Args& a, const std::string& nick);
  std::vector<std::string> stop(const Args& a, const std::string& nick);
  std::vector<std::string> cancel(const Args& a, const std::string& nick);
  bool authorized(const std::string& nick) const;
  const BuilderEntry& builder(const std::string& name) const;  // throws IrcCommandError

  const IrcOptions& opts_;
  ReporterServices& services_;
  std::string name_;
  std::map<std::string, std::set<IrcEvent>> notify_;
  std::map<std::int64_t, std::set<std::string>> watchers_;
};

}  // namespace bb
