// Pending build requests with real processes: cancel, priority, and
// collapsing on a builder that opted in.
#include <gtest/gtest.h>

#include <memory>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// Builder `b` runs on slave s1 (one build at a time) and its step waits for
// the file GATE, so requests queue up behind the first build until the test
// opens the gate. Builder `b2` (no collapsing, no gate) runs on slave s2.
class Requests : public ::testing::Test {
 protected:
  void start(const std::string& bOptions) {
    master.create();
    gate = tmp.sub("gate");
    master.writeConfig(
        "master: {name: req, slave_port: " + std::to_string(master.port()) + "}\n"
        "slaves:\n"
        "  - {name: s1, password: " + q(v) + "}\n"
        "  - {name: s2, password: " + q(v) + "}\n"
        "users:\n"
        "  - {name: alice, password: " + q(v) + ", may: [sendchange, force, status]}\n"
        "  - {name: bob, password: " + q(v) + ", may: [status]}\n"
        "builders:\n"
        "  - {name: b, slaves: [s1]" + bOptions + ", steps: [{shell: {command: "
        "\"while [ ! -f " + gate + " ]; do sleep 0.05; done; echo built %(prop:revision)s\"}}]}\n"
        "  - {name: b2, slaves: [s2], steps: [{shell: {command: \"echo built %(prop:revision)s\"}}]}\n"
        "schedulers:\n"
        "  - {name: force, type: force, builders: [b]}\n"
        "  - {name: main, type: single_branch, branch: main, builders: [b, b2]}\n");
    master.setAuth("alice", "pw");
    master.start();
    s1.create();
    s1.start();
    s2.create();
    s2.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
    ASSERT_TRUE(master.waitForLog("slave s2 connected")) << master.log();
  }
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    return sqlite(master.dbPath(), sql);
  }
  std::string one(const std::string& sql) { return rows(sql).at(0).at(0); }
  int count(const std::string& sql) { return std::stoi(one("SELECT count(*) FROM " + sql)); }
  // Forces a build of b; returns its request id.
  std::string force(const std::string& revision) {
    auto r = master.client({"force", "--scheduler", "force", "--revision", revision});
    EXPECT_EQ(r.rc, 0) << r.describe();
    return one("SELECT max(id) FROM buildrequests");
  }
  void change(const std::string& revision) {
    auto r = master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", revision});
    ASSERT_EQ(r.rc, 0) << r.describe();
  }
  void openGate() { writeFile(gate, ""); }

  TempDir tmp;
  std::string v = makeVerifier("pw");
  MasterProcess master{tmp.sub("master")};
  SlaveProcess s1{tmp.sub("s1"), master.port(), "s1", "pw"};
  SlaveProcess s2{tmp.sub("s2"), master.port(), "s2", "pw"};
  std::string gate;
};

TEST_F(Requests, APendingRequestCanBeCancelledAndARunningOneCannot) {
  start("");
  const std::string running = force("r1");
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder='b'") == 1; }, 30s)) << master.log();
  const std::string pending = force("r2");
  // status lists the waiting request (the id cancel takes) and the busy slave.
  auto st = master.client({"status"});
  ASSERT_EQ(st.rc, 0) << st.describe();
  EXPECT_NE(st.out.find("Pending requests:"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("\n" + pending + "        b "), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("s1     connected  1/1"), std::string::npos) << st.out;

  auto denied = master.client({"--auth", "bob:pw", "cancel", pending});
  EXPECT_EQ(denied.rc, 1) << denied.describe();
  EXPECT_NE(denied.err.find("may not use cancel"), std::string::npos) << denied.describe();

  auto r = master.client({"cancel", pending});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.out.find("request " + pending + " cancelled"), std::string::npos) << r.describe();
  auto again = master.client({"cancel", running, "999999"});
  EXPECT_EQ(again.rc, 1) << again.describe();
  // Said once, with what to do instead, and no protocol code.
  EXPECT_EQ(again.err, "buildbot cancel: request " + running +
                           " has already started; stop its build with `buildbot stop-build b 1`\n"
                           "buildbot cancel: no build request with id 999999\n")
      << again.describe();

  openGate();
  ASSERT_TRUE(waitFor([&] { return count("buildsets WHERE complete=1") == 2; }, 30s)) << master.log();
  // The cancelled request never built; its buildset completed CANCELLED and says who.
  EXPECT_EQ(count("builds WHERE builder='b'"), 1);
  auto req = rows("SELECT r.result, r.complete_text, bs.result FROM buildrequests r JOIN buildsets bs"
                  " ON bs.id = r.buildset_id WHERE r.id = " + pending);
  EXPECT_EQ(req.at(0).at(0), "6");  // CANCELLED
  EXPECT_EQ(req.at(0).at(1), "cancelled by alice");
  EXPECT_EQ(req.at(0).at(2), "6");
  EXPECT_EQ(one("SELECT result FROM builds WHERE request_id = " + running), "0");
  EXPECT_TRUE(master.waitForLog("request " + pending + " cancelled by alice")) << master.log();
}

TEST_F(Requests, RaisingAPriorityRunsThatRequestFirst) {
  start("");
  force("r1");
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder='b'") == 1; }, 30s)) << master.log();
  const std::string second = force("r2");
  const std::string third = force("r3");
  auto bad = master.client({"priority", third, "lots"});
  EXPECT_EQ(bad.rc, 2) << bad.describe();
  auto r = master.client({"priority", third, "10"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.out.find("priority 0 -> 10"), std::string::npos) << r.describe();
  openGate();
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder='b' AND finished=1") == 3; }, 60s))
      << master.log();
  // Build numbers are given in start order: the raised request started second.
  EXPECT_EQ(one("SELECT number FROM builds WHERE request_id = " + third), "2");
  EXPECT_EQ(one("SELECT number FROM builds WHERE request_id = " + second), "3");
  auto done = master.client({"priority", third, "1"});
  EXPECT_EQ(done.rc, 1) << done.describe();
  EXPECT_NE(done.err.find("already complete"), std::string::npos) << done.describe();
}

TEST_F(Requests, CollapsingIsOptInAndRecordsTheReplacingRequest) {
  start(", collapse_requests: true");
  change("c1");
  ASSERT_TRUE(waitFor([&] { return count("builds WHERE builder='b'") == 1; }, 30s)) << master.log();
  change("c2");
  change("c3");
  change("c4");
  openGate();
  ASSERT_TRUE(waitFor([&] { return count("buildsets WHERE complete=1") == 4; }, 60s)) << master.log();
  // b (collapsing) built the first and the newest change; b2 built all four.
  auto built = rows("SELECT json_extract(properties, '$.revision[0]') FROM builds WHERE builder='b'"
                    " ORDER BY number");
  ASSERT_EQ(built.size(), 2u);
  EXPECT_EQ(built[0][0], "c1");
  EXPECT_EQ(built[1][0], "c4");
  EXPECT_EQ(count("builds WHERE builder='b2' AND finished=1"), 4);
  // Each collapsed request is SKIPPED and names the request that replaced it.
  auto skipped = rows("SELECT r.id, r.result, r.replaced_by, r.complete_text FROM buildrequests r"
                      " WHERE r.builder='b' AND r.replaced_by != 0 ORDER BY r.id");
  ASSERT_EQ(skipped.size(), 2u);
  for (const auto& s : skipped) {
    EXPECT_EQ(s[1], "3");  // SKIPPED
    EXPECT_EQ(s[3], "collapsed into request " + s[2]);
    EXPECT_EQ(one("SELECT builder FROM buildrequests WHERE id=" + s[2]), "b");
    EXPECT_GT(std::stol(s[2]), std::stol(s[0]));
  }
  auto cs = master.client({"change-status", "2"});
  ASSERT_EQ(cs.rc, 0) << cs.describe();
  EXPECT_NE(cs.out.find("b: skipped (collapsed into request " + skipped[0][2] + ")"),
            std::string::npos)
      << cs.out;
}

}  // namespace
}  // namespace bb::test
