#include "tests/functional/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

#include "common/base64.hpp"

namespace bb::test {

namespace {

int httpClientConnectTo(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

std::string readAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string dechunk(const std::string& in) {
  std::string out;
  std::size_t pos = 0;
  while (pos < in.size()) {
    const auto eol = in.find("\r\n", pos);
    if (eol == std::string::npos) break;
    const std::size_t size = std::stoul(in.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) break;
    out.append(in, eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

}  // namespace

std::string httpRaw(int port, const std::string& raw, std::chrono::milliseconds timeout) {
  const int fd = httpClientConnectTo(port);
  if (fd < 0) return "";
  sendAll(fd, raw);
  ::shutdown(fd, SHUT_WR);  // all sent: the server sees the end of the request stream
  std::string out = readAll(fd, timeout);
  ::close(fd);
  return out;
}

HttpReply httpRequest(int port, const std::string& method, const std::string& path, const HttpOptions& o) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  for (const auto& [k, v] : o.headers) req += k + ": " + v + "\r\n";
  if (!o.user.empty()) req += "Authorization: Basic " + base64Encode(o.user + ":" + o.password) + "\r\n";
  if (!o.body.empty() || method == "POST") req += "Content-Length: " + std::to_string(o.body.size()) + "\r\n";
  req += "\r\n" + o.body;
  const int fd = httpClientConnectTo(port);
  HttpReply r;
  if (fd < 0) return r;
  sendAll(fd, req);
  ::shutdown(fd, SHUT_WR);
  const std::string raw = readAll(fd, o.timeout);
  ::close(fd);
  const auto headEnd = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || headEnd == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  std::size_t pos = raw.find("\r\n") + 2;
  while (pos < headEnd) {
    const auto eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value[0] == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    pos = eol + 2;
  }
  const std::string body = raw.substr(headEnd + 4);
  r.body = r.header("transfer-encoding") == "chunked" ? dechunk(body) : body;
  return r;
}

}  // namespace bb::test
