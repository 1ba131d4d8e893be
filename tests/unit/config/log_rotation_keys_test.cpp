// log_max_mb and log_keep: the daemons' own log rotation, in master.yaml's
// master section and in slave.yaml.
#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "config/slave_config.hpp"
#include "config_test_util.hpp"

namespace bb {
namespace {

std::string masterYaml(const std::string& masterKeys) {
  return "master: {name: m" + masterKeys + "}\n"
         "slaves: [{name: s1, password: \"" + test::kVerifier + "\"}]\n"
         "builders: [{name: b1, slaves: [s1], steps: [{shell: {command: make}}]}]\n";
}

TEST(LogRotationKeys, DefaultsAndValuesInMasterYaml) {
  auto r = parseMasterConfig(masterYaml(""), "master.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << test::dump(r.errors);
  EXPECT_EQ(r.config->master.log.maxMegabytes, 10);
  EXPECT_EQ(r.config->master.log.keep, 10);
  EXPECT_EQ(r.config->master.log.maxBytes(), 10u << 20);
  r = parseMasterConfig(masterYaml(", log_max_mb: 50, log_keep: 3"), "master.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << test::dump(r.errors);
  EXPECT_EQ(r.config->master.log.maxBytes(), 50u << 20);
  EXPECT_EQ(r.config->master.log.keep, 3);
  r = parseMasterConfig(masterYaml(", log_max_mb: 0"), "master.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->master.log.maxBytes(), 0u);  // never rotate
}

TEST(LogRotationKeys, OutOfRangeIsAnErrorAtItsPosition) {
  auto r = parseMasterConfig(masterYaml(", log_keep: -1"), "master.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  const ConfigError* e = test::findError(r.errors, "log_keep");
  ASSERT_NE(e, nullptr) << test::dump(r.errors);
  EXPECT_EQ(e->line, 1);
}

TEST(LogRotationKeys, SlaveYamlTakesThemToo) {
  auto r = parseSlaveConfig("master: \"h:1\"\nname: s1\npassword: pw\ntls: false\nlog_max_mb: 5\nlog_keep: 2\n",
                            "slave.yaml");
  ASSERT_TRUE(r.ok()) << test::dump(r.errors);
  EXPECT_EQ(r.config->log.maxBytes(), 5u << 20);
  EXPECT_EQ(r.config->log.keep, 2);
  r = parseSlaveConfig("master: \"h:1\"\nname: s1\npassword: pw\nlog_max_mb: 100001\n", "slave.yaml");
  EXPECT_FALSE(r.ok());
  r = parseSlaveConfig("master: \"::1:9989\"\nname: s1\npassword: pw\n", "slave.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(test::dump(r.errors).find("an IPv6 address goes in brackets"), std::string::npos)
      << test::dump(r.errors);
}

}  // namespace
}  // namespace bb
