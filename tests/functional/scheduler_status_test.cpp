// `buildbot status` lists every scheduler's own state in one line, as a
// user sees it with a real master: a tree-stable timer's held change and
// its deadline, a force scheduler's builders, and the same in --json.
#include <gtest/gtest.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(SchedulerStatus, StatusShowsATreeStableTimersHeldChangeAndDeadline) {
  TempDir tmp;
  const std::string v = makeVerifier("pw");
  MasterProcess master{tmp.sub("master")};
  master.create();
  master.writeConfig(
      "master: {name: st, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + "}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [sendchange, force, status]}]\n"
      "builders:\n"
      "  - {name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n"
      "schedulers:\n"
      "  - {name: stable, type: single_branch, branch: main, tree_stable_timer: 3600, "
      "builders: [b1]}\n"
      "  - {name: manual, type: force, builders: [b1]}\n");
  master.setAuth("alice", "pw");
  master.start();

  const std::int64_t before = nowSeconds();
  const auto sc = master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision",
                                 "abc", "src/a.c"});
  ASSERT_EQ(sc.rc, 0) << sc.describe();
  const std::int64_t after = nowSeconds();

  const auto text = master.client({"status"});
  ASSERT_EQ(text.rc, 0) << text.describe();
  EXPECT_NE(text.out.find("\nSchedulers:\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  stable (single_branch): tree stable at "), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(", 1 change held (id 1)\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  manual (force): builds on request\n"), std::string::npos) << text.out;

  const auto js = master.client({"status", "--json"});
  ASSERT_EQ(js.rc, 0) << js.describe();
  const Json status = Json::parse(js.out);
  const Json* stable = nullptr;
  for (const auto& s : status.at("schedulers"))
    if (s.at("name") == "stable") stable = &s;
  ASSERT_NE(stable, nullptr) << js.out;
  EXPECT_EQ(stable->at("type"), "single_branch");
  EXPECT_EQ(stable->at("held_changes"), Json::array({1}));
  EXPECT_EQ(stable->at("tree_stable_timer"), 3600);
  // The deadline is one timer period after the change arrived.
  const std::int64_t at = stable->at("stable_at").get<std::int64_t>();
  EXPECT_GE(at, before + 3600 - 1) << js.out;
  EXPECT_LE(at, after + 3600 + 1) << js.out;
}

}  // namespace
}  // namespace bb::test
