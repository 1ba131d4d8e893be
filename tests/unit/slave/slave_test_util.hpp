#pragma once
// Helpers shared by the slave unit tests: a temp dir, a recording
// CommandSink, and running an io_context until a condition holds.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "slave/command.hpp"

namespace bb::test {

// A fresh directory under $TMPDIR, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bbslave-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole content of a file (empty when it cannot be read).
inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs io until pred() holds. The cap only turns a hang into a failure.
inline bool runUntil(boost::asio::io_context& io, const std::function<bool()>& pred,
                     std::chrono::seconds cap = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + cap;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(50));
  }
  return true;
}

// Records everything a command sends and checks the credit rule.
class RecordingSink : public CommandSink {
 public:
  void sendOutput(std::int64_t cmdId, Stream stream, std::string_view data) override {
    EXPECT_LE(data.size(), RemoteCommand::kMaxChunk);
    EXPECT_FALSE(done.has_value()) << "output after CommandDone";
    streams[static_cast<int>(stream)].append(data);
    bytes += data.size();
    maxChunk = std::max(maxChunk, data.size());
    ++chunks;
    lastId = cmdId;
  }
  void sendDone(std::int64_t cmdId, const Json& body) override {
    EXPECT_FALSE(done.has_value()) << "two CommandDone";
    done = body;
    lastId = cmdId;
  }
  void commandComplete(RemoteCommand*) override { complete = true; }
  void sendFileCredit(std::int64_t, std::int64_t bytes) override { fileCredit += bytes; }

  const std::string& out() const { return streams[0]; }
  const std::string& err() const { return streams[1]; }
  const std::string& hdr() const { return streams[2]; }

  std::string streams[4];  // stdout, stderr, header, data (uploads)
  std::size_t bytes = 0;
  std::size_t chunks = 0;
  std::size_t maxChunk = 0;
  std::int64_t lastId = -1;
  std::optional<Json> done;
  bool complete = false;
  std::int64_t fileCredit = 0;  // FileCredit granted (downloads)
};

}  // namespace bb::test
