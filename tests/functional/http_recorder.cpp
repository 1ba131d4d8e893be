#include "tests/functional/http_recorder.hpp"

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


void HttpRecorder::start(int status) {
  fs::create_directories(dir_);
  const std::string out = dir_ + "/../http-recorder-" + std::to_string(port_) + "-" + std::to_string(++starts_) + ".log";
  proc_.start({"/usr/bin/python3", std::string(BB_SOURCE_DIR) + "/tests/functional/http_recorder.py",
               std::to_string(port_), dir_, std::to_string(status)},
              out);
  if (!waitFor([&] { return !proc_.running() || readFile(out).find("listening") != std::string::npos; }, 20s) ||
      !proc_.running() || !canConnect(port_))
    throw std::runtime_error("http_recorder.py did not start on port " + std::to_string(port_) + ":\n" + readFile(out));
}

void HttpRecorder::stop() { proc_.stop(10s); }

std::vector<Json> HttpRecorder::requests() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  std::vector<Json> out;
  for (const auto& n : names) {
    Json r = Json::parse(readFile(dir_ + "/" + n));
    Json body = Json::parse(r["body"].get<std::string>(), nullptr, false);
    if (!body.is_discarded()) r["json"] = body;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace bb::test
