#pragma once
// A tiny blocking HTTP/1.1 client for functional tests: one request per
// connection (Connection: close), chunked bodies decoded. Only for servers
// on 127.0.0.1 that the test started.
#include <chrono>
#include <map>
#include <string>

namespace bb::test {

struct HttpReply {
  int status = 0;  // 0: no answer (connection failed or closed early)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpOptions {
  std::string body;
  std::map<std::string, std::string> headers;
  std::string user, password;  // HTTP Basic when user is set
  std::chrono::milliseconds timeout{30000};
};

// METHOD path on 127.0.0.1:port.
HttpReply httpRequest(int port, const std::string& method, const std::string& path, const HttpOptions& o = {});
inline HttpReply httpGet(int port, const std::string& path, const HttpOptions& o = {}) {
  return httpRequest(port, "GET", path, o);
}
// Sends `raw` bytes as they are and returns what came back (until EOF or
// the timeout), for malformed requests.
std::string httpRaw(int port, const std::string& raw, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace bb::test
