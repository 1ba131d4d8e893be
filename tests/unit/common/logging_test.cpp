// The daemons' own log file rotates by size and keeps N old files.
#include "common/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace bb {
namespace {

namespace fs = std::filesystem;

class LoggingRotation : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bb-logging-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    shutdownLogging();
    fs::remove_all(dir_);
  }
  std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

TEST_F(LoggingRotation, RotatesBySizeAndKeepsTheConfiguredNumberOfFiles) {
  const std::string log = (dir_ / "buildmaster.log").string();
  LogOptions o;
  o.rotateBytes = 2000;
  o.keep = 2;
  initLogging(log, "info", o);
  const std::string filler(100, 'x');
  for (int i = 0; i < 200; ++i) spdlog::info("line {} {}", i, filler);  // ~26 KB
  shutdownLogging();
  EXPECT_TRUE(fs::exists(dir_ / "buildmaster.log"));
  EXPECT_TRUE(fs::exists(dir_ / "buildmaster.1.log"));
  EXPECT_TRUE(fs::exists(dir_ / "buildmaster.2.log"));
  EXPECT_FALSE(fs::exists(dir_ / "buildmaster.3.log"));
  for (const char* f : {"buildmaster.log", "buildmaster.1.log", "buildmaster.2.log"})
    EXPECT_LE(fs::file_size(dir_ / f), 2000u) << f;
  // The newest lines are in the current file, the ones before in .1.
  EXPECT_NE(slurp(dir_ / "buildmaster.log").find("line 199 "), std::string::npos);
  EXPECT_EQ(slurp(dir_ / "buildmaster.log").find("line 150 "), std::string::npos);
  EXPECT_EQ(slurp(dir_ / "buildmaster.1.log").find("line 199 "), std::string::npos);
}

TEST_F(LoggingRotation, WithoutALimitTheFileOnlyGrows) {
  const std::string log = (dir_ / "buildslave.log").string();
  initLogging(log, "info", LogOptions{});
  for (int i = 0; i < 100; ++i) spdlog::info("line {} {}", i, std::string(100, 'y'));
  shutdownLogging();
  EXPECT_GT(fs::file_size(log), 10000u);
  EXPECT_FALSE(fs::exists(dir_ / "buildslave.1.log"));
}

TEST_F(LoggingRotation, TheFilterSeesEveryMessageBeforeItIsWritten) {
  const std::string log = (dir_ / "buildmaster.log").string();
  initLogging(log, "info", LogOptions{});
  setLogFilter([](std::string_view text) {
    std::string out(text);
    for (auto at = out.find("hunter22"); at != std::string::npos; at = out.find("hunter22"))
      out.replace(at, 8, "<secret:pw>");
    return out;
  });
  spdlog::error("login with hunter22 failed");
  setLogFilter({});
  spdlog::error("after: hunter22");
  shutdownLogging();
  const std::string text = slurp(dir_ / "buildmaster.log");
  EXPECT_NE(text.find("login with <secret:pw> failed"), std::string::npos) << text;
  EXPECT_NE(text.find("after: hunter22"), std::string::npos) << text;
}

}  // namespace
}  // namespace bb
