#pragma once
// The IRC reporter's settings (a `type: irc` item of `reporters:`) and
// their config check. docs/notifiers.md describes each key.
#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_kinds.hpp"
#include "config/master_config.hpp"

namespace bb {

// What a channel may be told of (`notify:` and the `notify on|off` command).
enum class IrcEvent { Started, Finished, Success, Failure, Warnings, Exception, Problem, Change };
std::string_view toString(IrcEvent e);
std::optional<IrcEvent> ircEventFromString(std::string_view s);
// "started, finished, ..." for replies and errors.
std::string ircEventList();

struct IrcChannel {
  std::string name;  // "#ci"
  std::string key;   // its JOIN key, or ""
  std::set<IrcEvent> notify;  // the announcements it starts with
};

struct IrcOptions : ReporterOptions {
  std::string host;
  int port = 6667;
  bool tls = false;
  bool tlsVerify = true;
  std::string nick;
  std::string realname = "buildbot";
  std::string serverPassword;    // PASS; may be "%(secret:NAME)s"
  std::string nickservPassword;  // PRIVMSG NickServ :IDENTIFY
  std::string saslUser, saslPassword;  // SASL PLAIN (saslUser set: used)
  std::vector<IrcChannel> channels;
  // Nicks (glob patterns: * and ?) that may force, submit, stop and cancel.
  std::vector<std::string> authorized;
  // Flood control: `rate` lines a second on average, bursts of `burst`;
  // at most `queue` lines wait (the oldest is dropped beyond that).
  double rate = 2.0;
  int burst = 5;
  std::size_t maxQueued = 100;
  std::chrono::seconds retryInitial{1}, retryMax{300};
};

// The kind's config check: reads every key of an irc reporter item.
bool parseIrcReporter(cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e);

}  // namespace bb
