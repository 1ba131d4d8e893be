// The failure policy with real processes: a component whose asynchronous
// work fails says so, keeps its state whole and recovers by itself.
#include <gtest/gtest.h>

#include "common/message.hpp"
#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

TEST(FailurePolicy, AFailingGitFetchIsRetriedWithBackoffShownInStatusAndRecovers) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  GitRepo repo(tmp.sub("repo"));  // not created yet: every fetch fails
  master.create();
  master.writeConfig(
      "master: {name: fp, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(verifier()) + "}]\n"
      "users: [{name: alice, password: " + q(verifier()) + ", may: [status]}]\n"
      "builders: [{name: b, slaves: [s1], steps: [{shell: {name: show, command: \"echo built\"}}]}]\n"
      "schedulers: [{name: all, type: single_branch, branch: main, builders: [b]}]\n"
      "change_sources: [{name: app, type: git_poller, repo: " + q(repo.path()) +
      ", branches: [main], interval: 1}]\n");
  master.setAuth("alice", "pw");
  master.start();
  SlaveProcess slave(tmp.sub("s1"), master.port(), "s1", "pw");
  slave.create();
  slave.start();

  // Retried with a growing back-off (1 s, then 2 s), each failure logged.
  ASSERT_TRUE(master.waitForLog("git_poller app: poll failed (2 in a row)")) << master.log();
  EXPECT_NE(master.log().find("next try in 2 s"), std::string::npos) << master.log();
  const CmdResult st = master.client({"status", "--json"});
  ASSERT_EQ(st.rc, 0) << st.describe();
  const Json sources = Json::parse(st.out).at("change_sources");
  ASSERT_EQ(sources.size(), 1u) << st.out;
  EXPECT_EQ(sources[0]["name"], "app");
  EXPECT_GE(sources[0]["failures"].get<int>(), 2);
  EXPECT_NE(sources[0]["last_error"].get<std::string>().find("git fetch of " + repo.path()),
            std::string::npos)
      << sources;
  EXPECT_EQ(sources[0]["last_success_at"], 0);
  EXPECT_TRUE(master.running()) << "a failing change source must not take the master down";

  // The repository appears: the poller recovers by itself and builds.
  repo.init();
  repo.commit("README", "one\n", "first");
  ASSERT_TRUE(master.waitForLog("polling works again", 30s)) << master.log();
  ASSERT_TRUE(master.waitForLog("watching main")) << master.log();
  repo.commit("README", "two\n", "second");
  ASSERT_TRUE(waitFor([&] {
    auto rows = sqlite(master.dbPath(), "SELECT finished, result FROM builds WHERE number=1");
    return !rows.empty() && rows[0][0] == "1";
  }, 60s)) << master.log();
  const Json after = Json::parse(master.client({"status", "--json"}).out).at("change_sources");
  EXPECT_EQ(after[0]["failures"], 0);
  EXPECT_FALSE(after[0].contains("last_error")) << after;
  EXPECT_GT(after[0]["last_success_at"].get<std::int64_t>(), 0);
}

}  // namespace
}  // namespace bb::test
