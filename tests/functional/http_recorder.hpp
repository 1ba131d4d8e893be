#pragma once
// A local HTTP server for the commit-status and HTTP push tests:
// tests/functional/http_recorder.py on 127.0.0.1:port, writing each
// request it receives to a directory as JSON (method, path, headers,
// body) and answering with a status the test chooses. The allowed
// stand-in for GitHub, GitLab and Gitea, which cannot run here.
#include <string>
#include <vector>

#include "common/message.hpp"  // Json
#include "tests/functional/harness.hpp"

namespace bb::test {

class HttpRecorder {
 public:
  HttpRecorder(int port, std::string dir) : port_(port), dir_(std::move(dir)) {}
  // Starts the server (answering `status`) and waits until it accepts
  // connections; throws with its output if it does not within 20 s.
  void start(int status = 201);
  // SIGTERM, wait; then it no longer accepts connections.
  void stop();
  // Every request received so far, oldest first; each body parsed as
  // JSON into "json" when it is JSON.
  std::vector<Json> requests() const;
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  std::string dir_;
  ChildProcess proc_;
  int starts_ = 0;
};

}  // namespace bb::test
