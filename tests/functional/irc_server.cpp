#include "tests/functional/irc_server.hpp"

#include <filesystem>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bb::test {

namespace {

int ircServerConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void IrcServer::start() {
  std::filesystem::create_directories(dir_);
  const std::string conf = dir_ + "/ngircd.conf";
  // No daemonizing (-n), loopback only, no DNS/ident lookups (they would
  // delay each login), generous flood limits (the bot has its own).
  writeFile(conf,
            "[Global]\nName = irc.test.local\nInfo = test server\nListen = 127.0.0.1\nPorts = " +
                std::to_string(port_) +
                "\nMotdPhrase = test\nAdminInfo1 = test\nAdminInfo2 = test\nAdminEMail = test@example.org\n"
                "[Limits]\nMaxNickLength = 30\nPingTimeout = 120\nMaxConnectionsIP = 0\n"
                "[Options]\nPAM = no\nIdent = no\nDNS = no\n" +
                (tlsPort_ ? "[SSL]\nCertFile = " + cert_ + "\nKeyFile = " + key_ + "\nPorts = " +
                                std::to_string(tlsPort_) + "\n"
                          : std::string()));
  const std::string out = dir_ + "/ngircd-" + std::to_string(++starts_) + ".log";
  proc_.start({"/usr/sbin/ngircd", "-n", "-f", conf}, out);
  const bool up = waitFor(
      [&] {
        if (!proc_.running()) return true;
        const int fd = ircServerConnectTo(port_);
        if (fd < 0) return false;
        close(fd);
        return true;
      },
      10s);
  if (!up || !proc_.running())
    throw std::runtime_error("ngircd did not start on port " + std::to_string(port_) + ":\n" + readFile(out));
}

void IrcServer::stop() { proc_.stop(10s); }

std::string IrcServer::log() const { return readFile(dir_ + "/ngircd-" + std::to_string(starts_) + ".log"); }

IrcPeer::~IrcPeer() {
  if (fd_ >= 0) close(fd_);
}

void IrcPeer::connect() {
  fd_ = ircServerConnectTo(port_);
  if (fd_ < 0) throw std::runtime_error("IrcPeer: cannot connect to 127.0.0.1:" + std::to_string(port_));
  send("NICK " + nick_);
  send("USER " + nick_ + " 0 * :test peer");
  if (!waitFor({" 001 " + nick_}, 10s)) throw std::runtime_error("IrcPeer: not welcomed:\n" + transcript());
}

void IrcPeer::join(const std::string& channel) {
  mark();
  send("JOIN " + channel);
  if (!waitFor({" 366 " + nick_ + " " + channel}, 10s))
    throw std::runtime_error("IrcPeer: cannot join " + channel + ":\n" + transcript());
}

void IrcPeer::send(const std::string& rawLine) {
  const std::string l = rawLine + "\r\n";
  if (::send(fd_, l.data(), l.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(l.size()))
    throw std::runtime_error("IrcPeer: cannot send " + rawLine);
}

bool IrcPeer::readSome(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char tmp[4096];
  const ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<std::size_t>(n));
  for (std::size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
    std::string line = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("PING ", 0) == 0) send("PONG " + line.substr(5));
    lines_.push_back(line);
  }
  return true;
}

std::optional<std::string> IrcPeer::waitFor(const std::vector<std::string>& needles,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (std::size_t i = from_;;) {
    for (; i < lines_.size(); ++i) {
      bool all = true;
      for (const auto& n : needles) all = all && lines_[i].find(n) != std::string::npos;
      if (all) {
        from_ = i + 1;
        return lines_[i];
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    readSome(std::min(left, std::chrono::milliseconds(200)));
  }
}

std::string IrcPeer::transcript() const {
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  return out;
}

}  // namespace bb::test
