// A step's `urls:` in the master config: read in config order for every
// step type, and each mistake reported with its reason.
#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::findError;
using test::kVerifier;

std::string urlsConfig(const std::string& steps) {
  return "slaves:\n"
         "  - { name: s1, password: \"" + kVerifier + "\" }\n"
         "builders:\n"
         "  - name: b\n"
         "    slaves: [s1]\n"
         "    steps:\n" + steps;
}

TEST(StepUrlsConfig, ReadInOrderOnEveryStepType) {
  auto r = parseMasterConfig(
      urlsConfig("      - git: { repo: /r.git, urls: { source: \"https://git.example.org/%(prop:revision)s\" } }\n"
             "      - shell:\n"
             "          command: make\n"
             "          urls:\n"
             "            zeta: \"https://ci/z\"\n"
             "            Test report: \"/reports/%(prop:buildnumber)s\"\n"
             "      - shell: { command: make }\n"),
      "ok.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto& steps = r.config->findBuilder("b")->steps;
  using Urls = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(steps[0].urls, (Urls{{"source", "https://git.example.org/%(prop:revision)s"}}));
  EXPECT_EQ(steps[1].urls, (Urls{{"zeta", "https://ci/z"}, {"Test report", "/reports/%(prop:buildnumber)s"}}));
  EXPECT_TRUE(steps[2].urls.empty());
}

TEST(StepUrlsConfig, MistakesAreReported) {
  auto check = [](const std::string& urls, const std::string& needle) {
    auto r = parseMasterConfig(urlsConfig("      - shell: { command: make, urls: " + urls + " }\n"), "bad.yaml",
                               masterConfigKinds());
    EXPECT_FALSE(r.ok()) << urls;
    EXPECT_NE(findError(r.errors, needle), nullptr) << urls << "\n" << dump(r.errors);
  };
  check("[https://x]", "urls must be a map");
  check("{r: \"https://x/a b\"}", "space or a control character");
  check("{r: \"\"}", "the URL is empty");
  check("{r: \"https://x/%(prop:a\"}", "urls r:");
  check("{r: \"https://x/%(secret:token)s\"}", "cannot be used here");
  check("{r: {nested: 1}}", "each entry is NAME");
  check("{\"" + std::string(101, 'n') + "\": \"/x\"}", "at most 100");
  std::string many = "{";
  for (int i = 0; i < 21; ++i) many += (i ? ", u" : "u") + std::to_string(i) + ": /x";
  check(many + "}", "at most 20");
}

}  // namespace
}  // namespace bb
