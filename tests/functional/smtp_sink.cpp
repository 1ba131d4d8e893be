#include "tests/functional/smtp_sink.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/functional/harness.hpp"

namespace bb::test {

namespace fs = std::filesystem;


void SmtpSink::start() {
  fs::create_directories(dir_);
  const std::string out = dir_ + "/../smtp-sink-" + std::to_string(port_) + "-" + std::to_string(++starts_) + ".log";
  // Debian's interpreter: python3-aiosmtpd is installed for it (a python3
  // earlier in PATH, e.g. pyenv's, would not see it).
  std::vector<std::string> argv{"/usr/bin/python3", std::string(BB_SOURCE_DIR) + "/tests/functional/smtp_sink.py",
                                std::to_string(port_), dir_};
  if (!login_.empty()) argv.push_back(login_);
  proc_.start(argv, out, "", env_);
  if (!waitFor([&] { return !proc_.running() || readFile(out).find("listening") != std::string::npos; }, 20s) ||
      !proc_.running() || !canConnect(port_))
    throw std::runtime_error("smtp_sink.py did not start on port " + std::to_string(port_) + ":\n" + readFile(out));
}

void SmtpSink::stop() { proc_.stop(10s); }

std::vector<Json> SmtpSink::messages() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 5 && n.front() != '.' && n.substr(n.size() - 5) == ".json") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  std::vector<Json> out;
  for (const auto& n : names) out.push_back(Json::parse(readFile(dir_ + "/" + n)));
  return out;
}

}  // namespace bb::test
