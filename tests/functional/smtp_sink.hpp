#pragma once
// A real SMTP server for mail tests: tests/functional/smtp_sink.py
// (aiosmtpd) on 127.0.0.1:port, writing each message it receives to a
// directory as JSON (envelope, decoded subject/to/from, body, attachments).
#include <map>
#include <string>
#include <vector>

#include "common/message.hpp"  // Json
#include "tests/functional/harness.hpp"

namespace bb::test {

class SmtpSink {
 public:
  SmtpSink(int port, std::string dir) : port_(port), dir_(std::move(dir)) {}
  // From the next start(): AUTH with this login is required.
  void requireLogin(std::string user, std::string password) { login_ = user + ":" + password; }
  // From the next start(): STARTTLS offered and required, with this PEM
  // certificate and key.
  void requireStarttls(std::string cert, std::string key) {
    env_ = {{"SMTP_SINK_CERT", std::move(cert)}, {"SMTP_SINK_KEY", std::move(key)}};
  }
  // Starts the server and waits until it accepts connections; throws
  // with its output if it does not within 20 s.
  void start();
  // SIGTERM, wait; then it no longer accepts connections.
  void stop();
  // Every message received so far, oldest first.
  std::vector<Json> messages() const;
  int port() const { return port_; }

 private:
  int port_;
  std::string dir_;
  ChildProcess proc_;
  int starts_ = 0;
  std::string login_;
  std::map<std::string, std::string> env_;
};

}  // namespace bb::test
