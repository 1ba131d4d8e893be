#pragma once
// The IRC reporter's client connection, on the master's io_context: TCP or
// TLS, registration (PASS, SASL PLAIN, NICK/USER; a nick in use gets a
// suffix), NickServ IDENTIFY, joining the channels, answering PING,
// flood-controlled sending (IrcSendQueue), and reconnecting with back-off
// whenever the connection ends. Asio stays in irc_connection.cpp.
//
// Failure path: a line the handlers cannot handle (they throw) closes the
// connection with a log line and reconnects, so no half-handled state
// outlives it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/message.hpp"  // Json

namespace boost::asio {
class io_context;
}

namespace bb {

struct IrcConnectionSettings {
  std::string name;  // for log lines: "irc reporter 'x'"
  std::string host;
  int port = 6667;
  bool tls = false, tlsVerify = true;
  std::string nick, realname = "buildbot";
  std::string serverPassword, nickservPassword, saslUser, saslPassword;
  std::vector<std::pair<std::string, std::string>> channels;  // name, key
  double rate = 2.0;
  int burst = 5;
  std::size_t maxQueued = 100;
  std::chrono::milliseconds retryInitial{1000}, retryMax{300000};
};

class IrcConnection {
 public:
  struct Handlers {
    // A PRIVMSG to a channel or to the bot: sender's nick, target, text.
    std::function<void(const std::string& nick, const std::string& target, const std::string& text)> message;
    // The bot is in `channel` (after each (re)join).
    std::function<void(const std::string& channel)> joined;
  };

  IrcConnection(boost::asio::io_context& io, IrcConnectionSettings s, Handlers h);
  ~IrcConnection();
  IrcConnection(const IrcConnection&) = delete;
  IrcConnection& operator=(const IrcConnection&) = delete;

  // Connects; from then on it reconnects until stop().
  void start();
  // QUIT, close; no reconnecting.
  void stop();
  // Queues PRIVMSGs to `target` (a channel or nick), one per line of text.
  void say(const std::string& target, const std::string& text);
  // The nick in use (the configured one, or it with a suffix).
  std::string nick() const;
  // {connected, registered, nick, channels, connects, retries (reconnects),
  // failed (0), sent (lines), dropped (lines flood control dropped),
  // queued, last_error}.
  Json describe() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bb
