#pragma once
// A real IRC server for the IRC reporter's tests: Debian's ngircd on
// 127.0.0.1:port with a generated config, in the foreground (-n); and a
// small blocking IRC client (IrcPeer) that sits in a channel, says
// things and waits for what the bot says.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/functional/harness.hpp"

namespace bb::test {

class IrcServer {
 public:
  IrcServer(int port, std::string dir) : port_(port), dir_(std::move(dir)) {}
  // From the next start(): TLS too, on `tlsPort`, with this PEM
  // certificate and key (the plain port stays).
  void enableTls(int tlsPort, std::string cert, std::string key) {
    tlsPort_ = tlsPort;
    cert_ = std::move(cert);
    key_ = std::move(key);
  }
  // Starts ngircd and waits until it accepts connections; throws with its
  // output if it does not within 10 s.
  void start();
  void stop();
  int port() const { return port_; }
  std::string log() const;

 private:
  int port_;
  std::string dir_;
  ChildProcess proc_;
  int starts_ = 0;
  int tlsPort_ = 0;
  std::string cert_, key_;
};

class IrcPeer {
 public:
  IrcPeer(int port, std::string nick) : port_(port), nick_(std::move(nick)) {}
  ~IrcPeer();
  IrcPeer(const IrcPeer&) = delete;
  IrcPeer& operator=(const IrcPeer&) = delete;

  // Connects and registers; throws if the server does not welcome it in 10 s.
  void connect();
  // Joins `channel` and waits until the server confirms.
  void join(const std::string& channel);
  void send(const std::string& rawLine);
  void say(const std::string& target, const std::string& text) { send("PRIVMSG " + target + " :" + text); }
  // From now on, waits only look at lines that arrive after this.
  void mark() { from_ = lines_.size(); }
  // The first line since the mark that contains every one of `needles`
  // (reading for up to `timeout`), or nullopt.
  std::optional<std::string> waitFor(const std::vector<std::string>& needles,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Every line received so far (for failure messages).
  std::string transcript() const;

 private:
  bool readSome(std::chrono::milliseconds timeout);
  int port_;
  std::string nick_;
  int fd_ = -1;
  std::string buf_;
  std::vector<std::string> lines_;
  std::size_t from_ = 0;
};

}  // namespace bb::test
