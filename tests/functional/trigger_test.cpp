// Trigger steps with real processes: a parent build triggers a child build
// through a triggerable scheduler, waits for it (or not), takes its result,
// and `buildbot status --build` shows the links both ways.
#include <gtest/gtest.h>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// A master with builders parent (trigger, waiting), child, quickparent
// (trigger, not waiting), waitparent (waits for slowchild) and slowchild (which runs until the test creates
// `release`), and one slave that runs two builds at once, so a waiting
// parent leaves room for its child.
struct TriggerEnv {
  TempDir tmp{"bb-trigger"};
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};
  std::string release = tmp.sub("release");

  TriggerEnv() {
    const std::string v = makeVerifier("pw");
    master.create();
    master.writeConfig(
        "master: {name: trig, slave_port: " + std::to_string(master.port()) + "}\n"
        "slaves: [{name: s1, password: " + q(v) + ", max_builds: 2}]\n"
        "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
        "builders:\n"
        "  - name: parent\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - trigger:\n"
        "          name: kick\n"
        "          schedulers: [kids]\n"
        "          wait_for_finish: true\n"
        "          set_properties: {greeting: \"hello from %(prop:buildername)s\"}\n"
        "          copy_properties: [outcome]\n"
        "      - shell: {name: after, command: \"echo parent went on\"}\n"
        "  - name: child\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - shell: {command: \"echo greeting=%(prop:greeting)s parent=%(prop:parent_builder)s "
        "number=%(prop:parent_buildnumber)s; test '%(prop:outcome:-pass)s' = pass\"}\n"
        "  - name: quickparent\n"
        "    slaves: [s1]\n"
        "    steps: [{trigger: {schedulers: [slowkids]}}]\n"
        "  - name: waitparent\n"
        "    slaves: [s1]\n"
        "    steps: [{trigger: {name: kick, schedulers: [slowkids], wait_for_finish: true}}]\n"
        "  - name: slowchild\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - shell: {command: \"while [ ! -f " + release + " ]; do sleep 0.1; done; echo released\", "
        "timeout: 120}\n"
        "schedulers:\n"
        "  - {name: kids, type: triggerable, builders: [child]}\n"
        "  - {name: slowkids, type: triggerable, builders: [slowchild]}\n"
        "  - {name: force, type: force, builders: [parent, quickparent, waitparent]}\n");
    master.setAuth("alice", "pw");
    master.start();
    slave.create();
    slave.start();
    if (!master.waitForLog("slave s1 connected")) throw std::runtime_error(master.log());
  }

  // result of `builder` #number as stored (-1 while unfinished or absent).
  int result(const std::string& builder, int number) {
    auto rows = sqlite(master.dbPath(), "SELECT finished, result FROM builds WHERE builder='" + builder +
                                            "' AND number=" + std::to_string(number));
    if (rows.empty() || rows[0][0] != "1") return -1;
    return std::stoi(rows[0][1]);
  }

  CmdResult show(const std::string& builder, int number, bool logs = false) {
    std::vector<std::string> args{"status", "--builder", builder, "--build", std::to_string(number)};
    if (logs) args.push_back("--logs");
    return master.client(args);
  }
};

constexpr int kTriggerSuccess = 0, kFailure = 2, kCancelled = 6;

TEST(Trigger, ChildSucceedsSoTheWaitingParentSucceedsAndTheLinksShowBothWays) {
  TriggerEnv e;
  auto f = e.master.client({"force", "--scheduler", "force", "--builder", "parent", "--wait"});
  ASSERT_EQ(f.rc, 0) << f.describe() << e.master.log();
  EXPECT_EQ(e.result("parent", 1), kTriggerSuccess);
  EXPECT_EQ(e.result("child", 1), kTriggerSuccess) << "the parent waited for its child";

  // The child finished before the parent's trigger step did.
  auto order = sqlite(e.master.dbPath(),
                      "SELECT c.finished_at <= s.finished_at, s.result, s.text FROM builds c, builds p "
                      "JOIN steps s ON s.build_id=p.id AND s.name='kick' "
                      "WHERE c.builder='child' AND p.builder='parent'");
  ASSERT_EQ(order.size(), 1u);
  EXPECT_EQ(order[0][0], "1");
  EXPECT_EQ(order[0][1], "0");
  EXPECT_NE(order[0][2].find("worst buildset"), std::string::npos) << order[0][2];

  auto link = sqlite(e.master.dbPath(),
                     "SELECT bs.parent_build_id = p.id, bs.scheduler FROM buildsets bs "
                     "JOIN buildrequests r ON r.buildset_id=bs.id JOIN builds c ON c.request_id=r.id, builds p "
                     "WHERE c.builder='child' AND p.builder='parent'");
  ASSERT_EQ(link.size(), 1u);
  EXPECT_EQ(link[0][0], "1");
  EXPECT_EQ(link[0][1], "kids");

  auto child = e.show("child", 1, true);
  ASSERT_EQ(child.rc, 0) << child.describe();
  EXPECT_NE(child.out.find("triggered by parent #1"), std::string::npos) << child.out;
  EXPECT_NE(child.out.find("greeting=hello from parent parent=parent number=1"), std::string::npos)
      << "set_properties and the parent_* properties reach the child:\n" << child.out;

  auto parent = e.show("parent", 1, true);
  ASSERT_EQ(parent.rc, 0) << parent.describe();
  EXPECT_NE(parent.out.find("triggered child #1: success (buildset 2, scheduler kids)"), std::string::npos)
      << parent.out;
  EXPECT_EQ(parent.out.find("triggered by"), std::string::npos) << parent.out;
  EXPECT_NE(parent.out.find("triggered scheduler 'kids': buildset 2 on child"), std::string::npos)
      << "the trigger step's log names the BuildSet:\n" << parent.out;
  EXPECT_NE(parent.out.find("parent went on"), std::string::npos) << parent.out;
}

TEST(Trigger, ChildFailsSoTheTriggerStepAndTheParentFail) {
  TriggerEnv e;
  auto f = e.master.client({"force", "--scheduler", "force", "--builder", "parent", "--property",
                            "outcome:fail", "--wait"});
  EXPECT_EQ(f.rc, 1) << f.describe();
  EXPECT_EQ(e.result("child", 1), kFailure) << e.show("child", 1, true).out;
  EXPECT_EQ(e.result("parent", 1), kFailure) << e.master.log();
  auto steps = sqlite(e.master.dbPath(),
                      "SELECT s.name, s.result FROM steps s JOIN builds p ON p.id=s.build_id "
                      "WHERE p.builder='parent' ORDER BY s.number");
  ASSERT_EQ(steps.size(), 1u) << "halt_on_failure: the step after the trigger does not run";
  EXPECT_EQ(steps[0][0], "kick");
  EXPECT_EQ(steps[0][1], std::to_string(kFailure));
  auto parent = e.show("parent", 1);
  ASSERT_EQ(parent.rc, 0) << parent.describe();
  EXPECT_NE(parent.out.find("triggered child #1: failure"), std::string::npos) << parent.out;
}

TEST(Trigger, WithoutWaitingTheParentFinishesFirstAndTheChildStillRuns) {
  TriggerEnv e;
  auto f = e.master.client({"force", "--scheduler", "force", "--builder", "quickparent"});
  ASSERT_EQ(f.rc, 0) << f.describe();
  ASSERT_TRUE(waitFor([&] { return e.result("quickparent", 1) == kTriggerSuccess; }, 60s)) << e.master.log();
  // The child cannot finish before the test creates `release`.
  ASSERT_TRUE(waitFor([&] {
    return sqlite(e.master.dbPath(), "SELECT count(*) FROM builds WHERE builder='slowchild'")[0][0] == "1";
  }, 60s)) << e.master.log();
  EXPECT_EQ(e.result("slowchild", 1), -1) << "the child is still running";
  auto parent = e.show("quickparent", 1);
  ASSERT_EQ(parent.rc, 0) << parent.describe();
  EXPECT_NE(parent.out.find("triggered slowchild #1: running"), std::string::npos) << parent.out;

  writeFile(e.release, "go\n");
  ASSERT_TRUE(waitFor([&] { return e.result("slowchild", 1) == kTriggerSuccess; }, 60s)) << e.master.log();
  parent = e.show("quickparent", 1);
  EXPECT_NE(parent.out.find("triggered slowchild #1: success"), std::string::npos) << parent.out;
  auto child = e.show("slowchild", 1);
  EXPECT_NE(child.out.find("triggered by quickparent #1"), std::string::npos) << child.out;
}

TEST(Trigger, StoppingAWaitingParentEndsItsWaitAndTheChildRunsOn) {
  TriggerEnv e;
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force", "--builder", "waitparent"}).rc, 0);
  ASSERT_TRUE(waitFor([&] {
    return sqlite(e.master.dbPath(), "SELECT count(*) FROM builds WHERE builder='slowchild'")[0][0] == "1";
  }, 60s)) << e.master.log();
  // The waiting step says what it waits for.
  const auto st = e.master.client({"status", "--builder", "waitparent", "--build", "1"});
  ASSERT_EQ(st.rc, 0) << st.describe();
  EXPECT_NE(st.out.find("now: step 1 'kick' (trigger) waiting for buildset 2\n"), std::string::npos)
      << st.out;
  auto r = e.master.client({"stop-build", "waitparent", "1", "--reason", "not needed"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return e.result("waitparent", 1) == kCancelled; }, 60s)) << e.master.log();
  auto step = sqlite(e.master.dbPath(),
                     "SELECT s.result, s.text FROM steps s JOIN builds p ON p.id=s.build_id "
                     "WHERE p.builder='waitparent'");
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0][0], std::to_string(kCancelled));
  EXPECT_NE(step[0][1].find("interrupted while waiting"), std::string::npos) << step[0][1];
  EXPECT_EQ(e.result("slowchild", 1), -1) << "the child keeps running";
  writeFile(e.release, "go\n");
  ASSERT_TRUE(waitFor([&] { return e.result("slowchild", 1) == kTriggerSuccess; }, 60s)) << e.master.log();
}

}  // namespace
}  // namespace bb::test
