// Keys of the timed and any-branch schedulers: nightly's timezone and
// any_branch's branches are accepted, kept in `extra`, and checked.
#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::expectErrorAt;
using test::kVerifier;

std::string withTimedSchedulers(const std::string& schedulers) {
  return "slaves:\n"
         "  - { name: s1, password: \"" + kVerifier + "\" }\n"
         "builders:\n"
         "  - { name: b1, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "schedulers:\n" + schedulers;
}

TEST(TimedSchedulerKeys, NightlyTimezoneAndAnyBranchBranchesAreKept) {
  auto r = parseMasterConfig(
      withTimedSchedulers("  - { name: n, type: nightly, cron: \"0 3 * * *\", timezone: Europe/Paris, "
                     "only_if_changed: true, builders: [b1] }\n"
                     "  - { name: a, type: any_branch, branches: [main, \"release/*\"], builders: [b1] }\n"
                     "  - { name: u, type: nightly, cron: \"0 3 * * *\", timezone: UTC, builders: [b1] }\n"),
      "ok.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->findScheduler("n")->extra,
            (Json{{"cron", "0 3 * * *"}, {"timezone", "Europe/Paris"}, {"only_if_changed", true}}));
  EXPECT_EQ(r.config->findScheduler("a")->extra, (Json{{"branches", {"main", "release/*"}}}));
}

TEST(TimedSchedulerKeys, CronFieldMistakesAreFoundAtLoadWithTheirPlace) {
  // The scheduler's own cron parser runs at load, so checkconfig reports a
  // bad field (not only a wrong field count) at the cron value.
  auto r = parseMasterConfig(
      withTimedSchedulers("  - { name: n, type: nightly, cron: \"60 3 * * *\", builders: [b1] }\n"
                     "  - { name: m, type: nightly, cron: \"0 3 * foo *\", builders: [b1] }\n"),
      "bad.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "cron minute field '60': 60 is out of range 0-59", 6, 37);
  expectErrorAt(r.errors, "cron month field 'foo': 'foo' is neither a number nor a name", 7, 37);
}

TEST(TimedSchedulerKeys, BadValuesAreErrorsAtTheirPlace) {
  auto r = parseMasterConfig(
      withTimedSchedulers("  - { name: n, type: nightly, cron: \"0 3 * * *\", timezone: Mars/Base, builders: [b1] }\n"
                     "  - { name: m, type: nightly, cron: \"0 3 * * *\", timezone: ../../etc/passwd, builders: [b1] }\n"
                     "  - { name: a, type: any_branch, branches: [], builders: [b1] }\n"
                     "  - { name: d, type: single_branch, branch: main, branches: [x], builders: [b1] }\n"
                     "  - { name: e, type: periodic, interval: 60, timezone: UTC, builders: [b1] }\n"),
      "bad.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "unknown time zone 'Mars/Base'", 6, 60);
  expectErrorAt(r.errors, "time zone '../../etc/passwd' is not a tz database name", 7, 60);
  expectErrorAt(r.errors, "scheduler 'a': branches is empty; leave it out to build every branch", 8, 44);
  expectErrorAt(r.errors, "scheduler 'd': unknown key 'branches'", 9, 51);
  expectErrorAt(r.errors, "scheduler 'e': unknown key 'timezone'", 10, 46);
  EXPECT_EQ(r.errors.size(), 5u) << dump(r.errors);
}

}  // namespace
}  // namespace bb
