// What a user sees of scheduler semantics with a real master and slave:
// change properties reach the build, the source stamp's fields win over
// same-named properties (and the user is told), property names that
// %(prop:NAME)s cannot refer to are refused, the force messages say what
// to do without protocol codes, a nightly scheduler keeps unimportant
// changes held until a build takes them (change-status stays true), and
// checkconfig lists fire times.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

class SchedulerSemantics : public ::testing::Test {
 protected:
  void SetUp() override {
    master.create();
    master.writeConfig(
        "master: {name: sem, slave_port: " + std::to_string(master.port()) + "}\n"
        "slaves: [{name: s1, password: " + q(v) + ", properties: {flavor: slave}}]\n"
        "users: [{name: alice, password: " + q(v) + ", may: [sendchange, force, status]}]\n"
        "builders:\n"
        "  - name: b1\n"
        "    slaves: [s1]\n"
        "    properties: {flavor: builder}\n"
        "    steps: [{shell: {name: show, command: \"echo rev=%(prop:revision)s "
        "flavor=%(prop:flavor)s\"}}]\n"
        "  - {name: docs, slaves: [s1], steps: [{shell: {command: \"true\"}}]}\n"
        "schedulers:\n"
        "  - {name: all, type: single_branch, branch: main, builders: [b1],\n"
        "     properties: {flavor: scheduler}}\n"
        "  - {name: force, type: force, builders: [b1]}\n");
    master.setAuth("alice", "pw");
    master.start();
    slave.create();
    slave.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  }

  int finished() {
    return std::stoi(sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1")[0][0]);
  }
  Json buildProperties(int number) {
    return Json::parse(sqlite(master.dbPath(), "SELECT properties FROM builds WHERE builder='b1' "
                                               "AND number=" + std::to_string(number))[0][0]);
  }

  TempDir tmp;
  std::string v = makeVerifier("pw");
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};
};

TEST_F(SchedulerSemantics, TheSourceStampWinsAndChangePropertiesReachTheBuild) {
  const auto sc = master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision",
                                 "Y", "--property", "revision:X", "--property",
                                 "flavor:from-change", "src/a.c"});
  ASSERT_EQ(sc.rc, 0) << sc.describe();
  EXPECT_TRUE(contains(sc.err, "buildbot sendchange: note: property 'revision' is ignored: a "
                               "build's revision comes from its source stamp (set it with "
                               "--revision)"))
      << sc.describe();
  ASSERT_TRUE(waitFor([&] { return finished() == 1; }, 60s)) << master.log();
  const Json props = buildProperties(1);
  EXPECT_EQ(props["revision"], Json::array({"Y", "SourceStamp"})) << props.dump();
  EXPECT_EQ(props["branch"], Json::array({"main", "SourceStamp"})) << props.dump();
  // change > scheduler > slave > builder
  EXPECT_EQ(props["flavor"], Json::array({"from-change", "Change"})) << props.dump();
  const auto st = master.client({"status", "--builder", "b1", "--build", "1", "--logs"});
  ASSERT_EQ(st.rc, 0) << st.describe();
  EXPECT_TRUE(contains(st.out, "rev=Y flavor=from-change")) << st.describe();

  // Forced: force > scheduler, and the source stamp still wins.
  const auto f = master.client({"force", "--scheduler", "force", "--revision", "Z", "--property",
                                "revision:W", "--property", "flavor:forced", "--wait"});
  ASSERT_EQ(f.rc, 0) << f.describe() << master.log();
  EXPECT_TRUE(contains(f.err, "buildbot force: note: property 'revision' is ignored"))
      << f.describe();
  const Json forced = buildProperties(2);
  EXPECT_EQ(forced["revision"], Json::array({"Z", "SourceStamp"})) << forced.dump();
  EXPECT_EQ(forced["flavor"], Json::array({"forced", "Force"})) << forced.dump();

  // --json --wait: one JSON answer, with the notes and the finished buildset.
  const auto j = master.client({"force", "--scheduler", "force", "--property", "branch:x",
                                "--wait", "--json"});
  ASSERT_EQ(j.rc, 0) << j.describe() << master.log();
  const Json answer = Json::parse(j.out);
  EXPECT_EQ(answer["notes"], Json::array({"property 'branch' is ignored: a build's branch comes "
                                          "from its source stamp (set it with --branch)"}))
      << j.out;
  EXPECT_EQ(answer["buildset"]["complete"], true) << j.out;
  EXPECT_EQ(answer["buildset"]["result"], "success") << j.out;
}

TEST_F(SchedulerSemantics, PropertyNamesInterpolationCannotReachAreRefused) {
  for (const std::string verb : {"sendchange", "force"}) {
    std::vector<std::string> args = verb == "force"
                                        ? std::vector<std::string>{"force", "--scheduler", "force"}
                                        : std::vector<std::string>{"sendchange", "--branch", "main"};
    args.insert(args.end(), {"--property", "a/b:1"});
    const auto r = master.client(args);
    EXPECT_EQ(r.rc, 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "property name 'a/b' is not allowed: use one or more letters, "
                                "digits, '_', '.' or '-' (a name that %(prop:NAME)s can refer to)"))
        << r.describe();
    EXPECT_FALSE(contains(r.err, "bad_request")) << r.describe();
    EXPECT_FALSE(contains(r.err, "rejected:")) << r.describe();
  }
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT count(*) FROM changes")[0][0], "0");
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT count(*) FROM buildsets")[0][0], "0");
}

TEST_F(SchedulerSemantics, ForceMessagesSayWhatToDoAndJsonKeepsTheCode) {
  const auto other = master.client({"force", "--scheduler", "all"});
  EXPECT_EQ(other.rc, 1) << other.describe();
  EXPECT_EQ(other.err,
            "buildbot force: scheduler 'all' is a single_branch scheduler, not a force scheduler\n"
            "  force schedulers: force\n");

  const auto unknown = master.client({"force", "--scheduler", "force", "--builder", "nope"});
  EXPECT_EQ(unknown.rc, 1) << unknown.describe();
  EXPECT_EQ(unknown.err,
            "buildbot force: force scheduler 'force' rejected the request\n"
            "  there is no builder 'nope'; force scheduler 'force' can build: b1\n");

  const auto notOn = master.client({"force", "--scheduler", "force", "--builder", "docs"});
  EXPECT_EQ(notOn.rc, 1) << notOn.describe();
  EXPECT_EQ(notOn.err,
            "buildbot force: force scheduler 'force' rejected the request\n"
            "  builder 'docs' is not on force scheduler 'force'; it can build: b1\n");

  const auto json = master.client({"force", "--scheduler", "force", "--builder", "docs", "--json"});
  EXPECT_EQ(json.rc, 1) << json.describe();
  const Json err = Json::parse(json.out)["error"];
  EXPECT_EQ(err["code"], "rejected");
  EXPECT_EQ(err["message"], "force scheduler 'force' rejected the request");
  EXPECT_EQ(err["details"][0], "builder 'docs' is not on force scheduler 'force'; it can build: b1");
}

TEST_F(SchedulerSemantics, ConfigRefusesBadAndSourceStampPropertyNames) {
  const std::string path = tmp.sub("bad.yaml");
  writeFile(path,
            "master: {name: bad, slave_port: 1}\n"
            "slaves: [{name: s1, password: " + q(v) + ", properties: {\"x$y\": 1}}]\n"
            "builders: [{name: b1, slaves: [s1], properties: {revision: abc},\n"
            "            steps: [{shell: {command: \"true\"}}]}]\n"
            "schedulers: [{name: all, type: single_branch, branch: main, builders: [b1],\n"
            "              properties: {\"a/b\": 2}}]\n");
  const auto r = master.admin({"checkconfig", path});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_TRUE(contains(r.err, "property name 'x$y' is not allowed")) << r.describe();
  EXPECT_TRUE(contains(r.err, "property name 'a/b' is not allowed")) << r.describe();
  EXPECT_TRUE(contains(r.err, "property 'revision' cannot be set: a build's revision comes from "
                              "its source stamp"))
      << r.describe();
}

TEST_F(SchedulerSemantics, CheckconfigListsNextFireTimesAcrossDaylightSaving) {
  const std::string path = tmp.sub("timed.yaml");
  writeFile(path,
            "master: {name: timed, slave_port: 1}\n"
            "slaves: [{name: s1, password: " + q(v) + "}]\n"
            "builders: [{name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}]\n"
            "schedulers:\n"
            "  - {name: hourly, type: nightly, cron: \"0 * * * *\", timezone: Europe/Berlin,"
            " builders: [b1]}\n"
            "  - {name: tick, type: periodic, interval: 5400, builders: [b1]}\n");
  const auto autumn = master.admin(
      {"checkconfig", path, "--next-fires", "3", "--from", "2024-10-27T02:30:00+02:00"});
  ASSERT_EQ(autumn.rc, 0) << autumn.describe();
  EXPECT_EQ(autumn.out,
            path + ": config is good\n"
            "next 3 fire times from 2024-10-27 00:30:00 UTC:\n"
            "  nightly 'hourly' (cron \"0 * * * *\", Europe/Berlin):\n"
            "    2024-10-27 02:00:00 CET (+01:00) = 2024-10-27 01:00:00 UTC\n"
            "    2024-10-27 03:00:00 CET (+01:00) = 2024-10-27 02:00:00 UTC\n"
            "    2024-10-27 04:00:00 CET (+01:00) = 2024-10-27 03:00:00 UTC\n"
            "  periodic 'tick' (every 5400 s, no run recorded):\n"
            "    2024-10-27 00:30:00 UTC (at start)\n"
            "    2024-10-27 02:00:00 UTC\n"
            "    2024-10-27 03:30:00 UTC\n");
  const auto spring =
      master.admin({"checkconfig", path, "--next-fires", "2", "--from", "2024-03-31T00:30Z"});
  ASSERT_EQ(spring.rc, 0) << spring.describe();
  EXPECT_TRUE(contains(spring.out,
                       "    2024-03-31 03:00:00 CEST (+02:00) = 2024-03-31 01:00:00 UTC\n"
                       "    2024-03-31 04:00:00 CEST (+02:00) = 2024-03-31 02:00:00 UTC\n"))
      << spring.describe();
  // Without --next-fires: three per scheduler, from now.
  const auto plain = master.admin({"checkconfig", path});
  ASSERT_EQ(plain.rc, 0) << plain.describe();
  EXPECT_TRUE(contains(plain.out, "next 3 fire times from ")) << plain.describe();
  EXPECT_TRUE(contains(plain.out, "  nightly 'hourly' (cron \"0 * * * *\", Europe/Berlin):\n"))
      << plain.describe();
  const auto bad = master.admin({"checkconfig", path, "--from", "yesterday"});
  EXPECT_EQ(bad.rc, 2) << bad.describe();
  EXPECT_TRUE(contains(bad.err, "--from 'yesterday' is not an ISO 8601 time")) << bad.describe();
}

TEST(CheckconfigFires, PeriodicCountsFromTheRunRecordedInTheMastersDatabase) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  master.writeConfig(
      "master: {name: p, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + "}]\n"
      "builders: [{name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}]\n"
      "schedulers: [{name: tick, type: periodic, interval: 3600, builders: [b1]}]\n");
  master.start();
  // A periodic scheduler builds as soon as the master starts.
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM buildsets")[0][0] == "1";
  }, 30s)) << master.log();
  const auto r = master.admin({"checkconfig", master.dir(), "--next-fires", "2"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "  periodic 'tick' (every 3600 s, last run ")) << r.describe();
  EXPECT_FALSE(contains(r.out, "(at start)")) << r.describe();
  EXPECT_EQ(master.stop(), 0) << master.log();
}

TEST(NightlyHeldChanges, AnUnimportantChangeStaysHeldAndChangeStatusStaysTrue) {
  TempDir tmp;
  MasterProcess master(tmp.sub("master"));
  const std::string v = makeVerifier("pw");
  master.create();
  // Every minute, so a scheduled time is at most a minute away.
  master.writeConfig(
      "master: {name: n, slave_port: " + std::to_string(master.port()) + "}\n"
      "slaves: [{name: s1, password: " + q(v) + "}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [sendchange, status]}]\n"
      "builders: [{name: b1, slaves: [s1], steps: [{shell: {command: \"true\"}}]}]\n"
      "schedulers:\n"
      "  - {name: nightly, type: nightly, cron: \"* * * * *\", only_if_changed: true,\n"
      "     branch: main, files: {include: [\"src/**\"]}, builders: [b1]}\n");
  master.setAuth("alice", "pw");
  master.start();
  auto buildsets = [&] { return sqlite(master.dbPath(), "SELECT count(*) FROM buildsets")[0][0]; };
  ASSERT_EQ(master.client({"sendchange", "--branch", "main", "docs/a.md"}).rc, 0);
  // A scheduled time passes with only the unimportant change held. The
  // wait is bounded by the next minute boundary; nothing is timed.
  ASSERT_TRUE(master.waitForLog("1 unimportant change(s) stay held", 75s)) << master.log();
  EXPECT_EQ(buildsets(), "0");
  const auto waiting = master.client({"change-status", "1"});
  ASSERT_EQ(waiting.rc, 0) << waiting.describe();
  EXPECT_TRUE(contains(waiting.out, "waiting in:\n  nightly (nightly): not important: built with "
                                    "the next scheduled build, which needs an important change\n"))
      << waiting.describe();
  // The next important change is built at the next scheduled time, and
  // the held one with it.
  ASSERT_EQ(master.client({"sendchange", "--branch", "main", "src/a.c"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return buildsets() == "1"; }, 75s, 250ms)) << master.log();
  EXPECT_EQ(sqlite(master.dbPath(), "SELECT group_concat(change_id) FROM "
                                    "(SELECT change_id FROM buildset_changes ORDER BY seq) AS s")[0][0],
            "1,2");
  const auto built = master.client({"change-status", "1"});
  ASSERT_EQ(built.rc, 0) << built.describe();
  EXPECT_TRUE(contains(built.out, "built by:\n  nightly (nightly)")) << built.describe();
}

}  // namespace
}  // namespace bb::test
