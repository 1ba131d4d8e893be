// Names and password verifiers, checked against the SCRAM library the
// master logs in with.
#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "common/scram.hpp"
#include "config/yaml_util.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

TEST(ValueChecks, ExampleVerifierIsDemoPassword) {
  auto salt = base64Decode("jzwqG559bFtKOSgXBvXk0w==");
  ASSERT_TRUE(salt.has_value());
  EXPECT_EQ(formatScramVerifier(deriveScramVerifier("demo-pass", *salt, 4096)), test::kVerifier);
  EXPECT_EQ(cfg::checkScramVerifier(test::kVerifier), std::nullopt);
}

TEST(ValueChecks, AcceptsFreshVerifiers) {
  for (int iterations : {kScramMinIterations, kScramDefaultIterations}) {
    std::string v = makeScramVerifier("some password", iterations);
    EXPECT_EQ(cfg::checkScramVerifier(v), std::nullopt) << v;
  }
}

TEST(ValueChecks, RejectsWhatTheLoginParserRejects) {
  const std::string good = test::kVerifier;
  const std::vector<std::string> bad = {
      "",
      "hunter2",
      "SCRAM-SHA-256$4096:jzwqG559bFtKOSgXBvXk0w==$AAAA:AAAA",
      "scram-sha-256$4096:jzwqG559bFtKOSgXBvXk0w==",
      "scram-sha-256$999:" + good.substr(good.find(':') + 1),
      "scram-sha-256$x:" + good.substr(good.find(':') + 1),
      "scram-sha-256$4096:" + good.substr(good.find('$', 14)),       // no salt
      good.substr(0, good.size() - 4),                               // short server key
      good + "$extra",
      good.substr(0, good.rfind(':')),                               // one key only
  };
  for (const auto& v : bad) {
    EXPECT_FALSE(parseScramVerifier(v).has_value()) << v;
    auto msg = cfg::checkScramVerifier(v);
    ASSERT_TRUE(msg.has_value()) << v;
    EXPECT_NE(msg->find("buildmaster hash-password"), std::string::npos) << *msg;
  }
}

TEST(ValueChecks, Names) {
  EXPECT_EQ(cfg::checkName("linux-1.x_y"), std::nullopt);
  EXPECT_EQ(cfg::checkName("9lives"), std::nullopt);
  EXPECT_TRUE(cfg::checkName("").has_value());
  EXPECT_TRUE(cfg::checkName(".hidden").has_value());
  EXPECT_TRUE(cfg::checkName("a/b").has_value());
  EXPECT_TRUE(cfg::checkName("a b").has_value());
  EXPECT_EQ(cfg::checkName("a b", " "), std::nullopt);
  EXPECT_EQ(cfg::checkName("bob@example.org", "@+"), std::nullopt);
  EXPECT_TRUE(cfg::checkName(std::string(101, 'a')).has_value());
  EXPECT_EQ(cfg::checkName(std::string(100, 'a')), std::nullopt);
}

}  // namespace
}  // namespace bb
