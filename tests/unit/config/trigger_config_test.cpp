// The trigger step and the triggerable scheduler in the master config: the
// keys are read with their defaults, and every mistake is reported at its
// line:column.
#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "master/process/steps/trigger_step.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::expectErrorAt;
using test::kVerifier;

// Line 1-4: a slave and builder `child`; line 5 is "builders:" ... the
// caller's parent builder starts at line 6, its schedulers after it.
std::string config(const std::string& parentSteps, const std::string& schedulers) {
  return "slaves:\n"
         "  - { name: s1, password: \"" + kVerifier + "\" }\n"
         "builders:\n"
         "  - { name: child, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "  - name: parent\n"
         "    slaves: [s1]\n"
         "    steps:\n" + parentSteps +
         "schedulers:\n" + schedulers;
}

TEST(TriggerConfig, KeysAndDefaults) {
  auto r = parseMasterConfig(
      config("      - trigger: { schedulers: [kids] }\n"
             "      - trigger:\n"
             "          name: wait\n"
             "          schedulers: [kids, more]\n"
             "          wait_for_finish: true\n"
             "          set_properties: { who: \"%(prop:buildername)s\", n: 3 }\n"
             "          copy_properties: [branch, owner]\n"
             "          update_source_stamp: false\n"
             "          halt_on_failure: false\n",
             "  - { name: kids, type: triggerable, builders: [child], priority: 5, properties: {a: b} }\n"
             "  - { name: more, type: triggerable, builders: [child, parent] }\n"),
      "ok.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const BuilderEntry* parent = r.config->findBuilder("parent");
  ASSERT_NE(parent, nullptr);
  ASSERT_EQ(parent->steps.size(), 2u);
  EXPECT_EQ(parent->steps[0].type, "trigger");
  EXPECT_EQ(parent->steps[0].name, "trigger");
  const auto& plain = parent->steps[0].as<TriggerOptions>();
  EXPECT_EQ(plain.schedulers, std::vector<std::string>{"kids"});
  EXPECT_FALSE(plain.waitForFinish);
  EXPECT_TRUE(plain.updateSourceStamp);
  EXPECT_TRUE(plain.setProperties.empty());
  EXPECT_TRUE(plain.copyProperties.empty());
  EXPECT_EQ(parent->steps[1].name, "wait");
  EXPECT_FALSE(parent->steps[1].haltOnFailure);
  const auto& wait = parent->steps[1].as<TriggerOptions>();
  EXPECT_EQ(wait.schedulers, (std::vector<std::string>{"kids", "more"}));
  EXPECT_TRUE(wait.waitForFinish);
  EXPECT_FALSE(wait.updateSourceStamp);
  EXPECT_EQ(wait.setProperties, (Json{{"who", "%(prop:buildername)s"}, {"n", 3}}));
  EXPECT_EQ(wait.copyProperties, (std::vector<std::string>{"branch", "owner"}));
  const SchedulerEntry* kids = r.config->findScheduler("kids");
  ASSERT_NE(kids, nullptr);
  EXPECT_EQ(kids->type, "triggerable");
  EXPECT_EQ(kids->priority, 5);
  EXPECT_EQ(kids->properties, (Json{{"a", "b"}}));
}

TEST(TriggerConfig, StepMistakesAreReportedAtTheirPlace) {
  auto r = parseMasterConfig(
      config("      - trigger: { schedulers: [] }\n"
             "      - trigger: { schedulers: [nightly, nosuch, kids, kids] }\n"
             "      - trigger: { schedulers: [kids], set_properties: { x: \"%(prop:y\" } }\n"
             "      - trigger: { schedulers: [kids], command: make }\n"
             "      - trigger: { wait_for_finish: yes please }\n",
             "  - { name: kids, type: triggerable, builders: [child] }\n"
             "  - { name: nightly, type: nightly, cron: \"0 3 * * *\", builders: [child] }\n"),
      "bad.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "schedulers is empty; list the triggerable schedulers", 8, 32);
  expectErrorAt(r.errors, "scheduler 'nightly' has type nightly; a trigger step can only start "
                          "schedulers of type triggerable", 9, 33);
  expectErrorAt(r.errors, "unknown scheduler 'nosuch'; defined schedulers: kids, nightly", 9, 42);
  expectErrorAt(r.errors, "scheduler 'kids' is listed twice", 9, 56);
  expectErrorAt(r.errors, "set_properties x:", 10, 61);
  expectErrorAt(r.errors, "unknown key 'command'", 11, 40);
  expectErrorAt(r.errors, "missing required key 'schedulers'", 12, 18);
  EXPECT_NE(test::findError(r.errors, "wait_for_finish"), nullptr) << dump(r.errors);
}

TEST(TriggerConfig, TriggerableSchedulerTakesNoChangeKeys) {
  auto r = parseMasterConfig(
      config("      - trigger: { schedulers: [kids] }\n",
             "  - { name: kids, type: triggerable, builders: [child], branch: main }\n"
             "  - name: more\n"
             "    type: triggerable\n"
             "    builders: [child]\n"
             "    tree_stable_timer: 10\n"
             "    only_important: true\n"),
      "bad.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "scheduler 'kids': branch does nothing on a triggerable scheduler", 10, 57);
  expectErrorAt(r.errors, "scheduler 'more': tree_stable_timer does nothing on a triggerable", 14, 5);
  expectErrorAt(r.errors, "scheduler 'more': only_important does nothing", 15, 5);
  EXPECT_EQ(r.errors.size(), 3u) << dump(r.errors);
}

TEST(TriggerConfig, UnknownStepTypeListsTrigger) {
  auto r = parseMasterConfig(config("      - trigga: { schedulers: [kids] }\n",
                                    "  - { name: kids, type: triggerable, builders: [child] }\n"),
                             "bad.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "unknown step type 'trigga'; allowed: shell, git, hg, svn, darcs, brz, cvs, tla, trigger", 8, 9);
}

}  // namespace
}  // namespace bb
