#pragma once
// The IRC reporter: a bot on the master's loop (irc_connection.hpp) that
// answers commands (irc_commands.hpp) and announces builds to each
// channel for the events it was told to (build.started and
// build.finished on the event bus), with the build's URL; `watch`ers
// are told when the build they watch ends. docs/notifiers.md describes
// the settings and commands.
#include <cstdint>
#include <memory>

#include "master/reporters/irc_commands.hpp"
#include "master/reporters/irc_config.hpp"
#include "master/reporters/reporter.hpp"

namespace bb {

class IrcConnection;
struct Event;

class IrcReporter : public Reporter {
 public:
  IrcReporter(const ReporterEntry& cfg, ReporterServices& services);
  ~IrcReporter() override;
  static void declareType(ReporterType& t);

  void start() override;
  void stop() override;
  void finish(std::chrono::milliseconds limit) override;
  const ReporterEntry& config() const override { return cfg_; }
  Json describe() const override;

 private:
  void onMessage(const std::string& nick, const std::string& target, const std::string& text);
  void onEvent(const Event& e);
  void announce(const db::BuildRecord& b, const std::set<IrcEvent>& events, const std::string& text);

  ReporterEntry cfg_;
  const IrcOptions& opts_;
  ReporterServices services_;
  IrcCommands commands_;
  std::unique_ptr<IrcConnection> conn_;
  std::uint64_t subscription_ = 0;
  std::uint64_t commandsRun_ = 0, eventErrors_ = 0;
};

}  // namespace bb
