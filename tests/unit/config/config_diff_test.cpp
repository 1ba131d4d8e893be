// What a reconfig changes, as `buildmaster reconfig` reports it.
#include "config/config_diff.hpp"

#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "master/config_kinds.hpp"

namespace bb {
namespace {

MasterConfig load(const std::string& yaml) {
  auto r = parseMasterConfig(yaml, "master.yaml", masterConfigKinds());
  EXPECT_TRUE(r.ok()) << test::dump(r.errors);
  return r.config ? *r.config : MasterConfig{};
}

std::string configDiffBase(const std::string& builders, const std::string& extraSlave = "") {
  return "master: {name: m, slave_port: 9989}\n"
         "slaves:\n  - {name: s1, password: \"" + test::kVerifier + "\"}\n" + extraSlave +
         "builders:\n" + builders +
         "schedulers:\n  - {name: force, type: force, builders: [b1]}\n";
}

const std::string kB1 = "  - {name: b1, slaves: [s1], steps: [{shell: {command: make}}]}\n";

TEST(ConfigDiff, NothingChangedWhateverTheStyle) {
  const auto a = load(configDiffBase(kB1));
  // Block style, other key order: the same content.
  const auto b = load(configDiffBase("  - name: b1\n    steps: [{shell: {command: make}}]\n    slaves: [s1]\n"));
  EXPECT_EQ(describeChanges(diffConfigs(a, b)), "nothing changed");
}

TEST(ConfigDiff, NamesWhatWasAddedRemovedAndChanged) {
  const auto a = load(configDiffBase(kB1 + "  - {name: old, slaves: [s1], steps: [{shell: {command: x}}]}\n"));
  const auto b = load(configDiffBase(
      "  - {name: b1, slaves: [s1], steps: [{shell: {command: \"make -j2\"}}]}\n"
      "  - {name: b2, slaves: [s1, s2], steps: [{shell: {command: y}}]}\n",
      "  - {name: s2, password: \"" + test::kVerifier + "\"}\n"));
  const auto changes = diffConfigs(a, b);
  EXPECT_EQ(describeChanges(changes),
            "builders: added b2, removed old, changed b1; slaves: added s2");
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].section, "builders");
  EXPECT_EQ(changes[0].added, std::vector<std::string>{"b2"});
}

TEST(ConfigDiff, TheMasterSectionCountsAsOne) {
  const auto a = load(configDiffBase(kB1));
  std::string other = configDiffBase(kB1);
  other.replace(other.find("name: m,"), 8, "name: m2,");
  EXPECT_EQ(describeChanges(diffConfigs(a, load(other))), "master section changed");
}

TEST(ConfigDiff, SecretsAreComparedByValueAndNamedOnly) {
  auto a = load(configDiffBase(kB1));
  auto b = a;
  a.secrets.values = {{"kept", "same-value"}, {"tok", "old-value"}, {"gone", "gone-value"}};
  b.secrets.values = {{"kept", "same-value"}, {"tok", "new-value"}, {"fresh", "fresh-value"}};
  const std::string line = describeChanges(diffConfigs(a, b));
  EXPECT_EQ(line, "secrets: added fresh, removed gone, changed tok");
  EXPECT_EQ(line.find("value"), std::string::npos);
}

}  // namespace
}  // namespace bb
