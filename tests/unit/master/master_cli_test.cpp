// The buildmaster command line without a running daemon: --help and
// --version, usage errors, checkconfig's advice for a missing config, and
// cleanupdb on a master directory.
#include "master/master_cli.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "master/db/database.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int rc;
  std::string out, err;
};

CliRun masterCliRun(std::vector<std::string> args) {
  args.insert(args.begin(), "buildmaster");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  auto* oldOut = std::cout.rdbuf(out.rdbuf());
  auto* oldErr = std::cerr.rdbuf(err.rdbuf());
  const int rc = masterMain(static_cast<int>(args.size()), argv.data());
  std::cout.rdbuf(oldOut);
  std::cerr.rdbuf(oldErr);
  return {rc, out.str(), err.str()};
}

class MasterCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bb-master-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(MasterCli, HelpWorksOnEveryVerbWithNothingElseGiven) {
  for (const std::string verb : {"create-master", "start", "stop", "restart", "reconfig",
                                 "checkconfig", "upgrade-master", "cleanupdb", "hash-password"}) {
    const CliRun r = masterCliRun({verb, "--help"});
    EXPECT_EQ(r.rc, 0) << verb << ": " << r.err;
    EXPECT_EQ(r.out.rfind("usage: buildmaster " + verb, 0), 0u) << r.out;
    EXPECT_EQ(r.err, "") << verb;
    // Positionals are shown by name, never as an internal option.
    EXPECT_EQ(r.out.find("--dir"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("--target"), std::string::npos) << r.out;
  }
  EXPECT_NE(masterCliRun({"start", "--help"}).out.find("  DIR "), std::string::npos);
}

TEST_F(MasterCli, AMissingDirectoryIsNamedAsTheUserWritesIt) {
  const CliRun r = masterCliRun({"start"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "buildmaster start: DIR is missing (usage: buildmaster start DIR [--nodaemon])\n");
  const CliRun c = masterCliRun({"checkconfig"});
  EXPECT_EQ(c.rc, 2);
  EXPECT_NE(c.err.find("DIR|FILE is missing"), std::string::npos) << c.err;
  EXPECT_EQ(c.err.find("--target"), std::string::npos) << c.err;
  const CliRun extra = masterCliRun({"stop", "a", "b"});
  EXPECT_EQ(extra.rc, 2);
  EXPECT_NE(extra.err.find("too many arguments"), std::string::npos) << extra.err;
}

TEST_F(MasterCli, VersionSaysWhichProgramThisIs) {
  const CliRun r = masterCliRun({"--version"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.rfind("buildmaster (buildbot-cpp) ", 0), 0u) << r.out;
}

TEST_F(MasterCli, CheckconfigOnAMissingConfigSaysWhatToDoWithPathsThatExist) {
  const std::string d = (dir_ / "m").string();
  // No directory yet: create-master makes one.
  CliRun r = masterCliRun({"checkconfig", d});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, d + "/master.yaml: no such file, and " + d +
                       " is not a directory; `buildmaster create-master " + d +
                       "` makes a master directory with a sample config to start from\n");
  // A directory without a config: create-master writes the sample.
  fs::create_directories(d);
  r = masterCliRun({"checkconfig", d});
  EXPECT_EQ(r.err, d + "/master.yaml: no such file; `buildmaster create-master " + d +
                       "` writes " + d + "/master.yaml.sample to start from (copy it to " + d +
                       "/master.yaml and edit it)\n");
  // After create-master: copy the sample, which now exists.
  ASSERT_EQ(masterCliRun({"create-master", d}).rc, 0);
  ASSERT_TRUE(fs::exists(d + "/master.yaml.sample"));
  r = masterCliRun({"checkconfig", d});
  EXPECT_EQ(r.err, d + "/master.yaml: no such file; copy " + d + "/master.yaml.sample to " + d +
                       "/master.yaml and edit it (every key: docs/configuration.md)\n");
  r = masterCliRun({"start", d});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("copy " + d + "/master.yaml.sample"), std::string::npos) << r.err;
}

TEST_F(MasterCli, CleanupdbDeletesOldBuildsAndCompacts) {
  const std::string d = (dir_ / "m").string();
  ASSERT_EQ(masterCliRun({"create-master", d}).rc, 0);
  {
    db::Database db(d + "/state.sqlite");
    const auto master = db.registerMaster("m", 1000);
    for (const char* builder : {"old", "old", "new"}) {
      db::BuildsetRecord bs;
      const auto brid = db.addBuildset(bs, {builder}, 0).second.at(builder);
      const auto b = db.addBuild(master, brid, builder, "s", 1000, Json::object());
      const auto log = db.addLog(db.addStep(b.id, 1, "shell", 1000), "stdio");
      db.appendLog(log, 0, std::string(100000, 'x'));
      db.finishBuild(b.id, Result::Success, "", 1000);  // 1970: very old
    }
  }
  CliRun r = masterCliRun({"cleanupdb", d});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--older-than DAYS is required"), std::string::npos) << r.err;
  r = masterCliRun({"cleanupdb", d, "--older-than", "30"});
  EXPECT_EQ(r.rc, 0) << r.err;
  // Two builders: each keeps its newest build, so one of "old" goes.
  EXPECT_NE(r.out.find("deleted 1 build(s) finished before "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("with 1 step(s) and 1 log(s) (0.1 MB of log text)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("compacted the database: "), std::string::npos) << r.out;
  db::Database db(d + "/state.sqlite");
  EXPECT_EQ(db.lastBuilds("old", 10).size(), 1u);
  EXPECT_EQ(db.lastBuilds("new", 10).size(), 1u);
}

}  // namespace
}  // namespace bb
