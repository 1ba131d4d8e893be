// The config loader knows scheduler and step types only through the kinds
// it is given: a kind added here (as a new type's file would register it)
// is parsed and checked with positioned errors, and the master's own
// kinds list every registered type.
#include <gtest/gtest.h>

#include <memory>

#include "config/config_kinds.hpp"
#include "config/master_config.hpp"
#include "config/yaml_util.hpp"
#include "master/config_kinds.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::expectErrorAt;

struct SayOptions : StepOptions {
  std::string text;
};

ConfigKinds withSayStepAndEverySecondScheduler() {
  ConfigKinds k = masterConfigKinds();
  k.steps.push_back(StepKind{"say", [](cfg::MapReader& r, cfg::MasterParse&, StepConfig& s) {
                               r.allowKeys({"name", "text"});
                               auto o = std::make_shared<SayOptions>();
                               auto text = r.string("text", true);
                               if (text) o->text = *text;
                               s.options = std::move(o);
                               return text.has_value();
                             }});
  SchedulerKind every;
  every.name = "every_second";
  every.keys = {"seconds"};
  every.check = [](const cfg::MapReader& r, cfg::MasterParse&, SchedulerEntry&) {
    return r.integer("seconds", 1, 60, true).has_value();
  };
  k.schedulers.push_back(every);
  return k;
}

std::string yaml(const std::string& step, const std::string& scheduler) {
  return "slaves: [{name: s1, password: \"" + test::kVerifier + "\"}]\n"
         "builders:\n"
         "  - name: b1\n"
         "    slaves: [s1]\n"
         "    steps: [" + step + "]\n"
         "schedulers:\n"
         "  - " + scheduler + "\n";
}

TEST(ConfigKinds, ANewKindIsParsedWithoutChangingTheLoader) {
  const ConfigKinds kinds = withSayStepAndEverySecondScheduler();
  auto r = parseMasterConfig(
      yaml("{say: {text: hello}}", "{name: tick, type: every_second, seconds: 5, builders: [b1]}"),
      "k.yaml", kinds);
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const StepConfig& s = r.config->builders[0].steps[0];
  EXPECT_EQ(s.type, "say");
  EXPECT_EQ(s.name, "say") << "unnamed steps are named after their type";
  EXPECT_EQ(s.as<SayOptions>().text, "hello");
  EXPECT_EQ(r.config->schedulers[0].extra, (Json{{"seconds", 5}}));
}

TEST(ConfigKinds, ANewKindsMistakesAreReportedAtTheirPlace) {
  const ConfigKinds kinds = withSayStepAndEverySecondScheduler();
  auto r = parseMasterConfig(
      yaml("{say: {txt: hello}}", "{name: tick, type: every_second, seconds: 99, builders: [b1]}"),
      "k.yaml", kinds);
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "unknown key 'txt'; allowed keys: name, text", 5, 20);
  expectErrorAt(r.errors, "seconds must be an integer between 1 and 60, got '99'", 7, 47);
  // Without the kinds, the same file names what is allowed.
  auto plain = parseMasterConfig(
      yaml("{say: {text: hello}}", "{name: tick, type: every_second, builders: [b1]}"), "k.yaml",
      masterConfigKinds());
  expectErrorAt(plain.errors, "unknown step type 'say'; allowed: shell, git, hg, svn, darcs, brz, cvs, tla, trigger", 5, 14);
  expectErrorAt(plain.errors, "type must be one of single_branch, any_branch, force, periodic, "
                              "nightly, dependent, triggerable, try_jobdir, try_userpass; got 'every_second'",
                7, 24);
}

TEST(ConfigKinds, TheMastersKindsAreItsRegistries) {
  const ConfigKinds& k = masterConfigKinds();
  std::vector<std::string> steps, schedulers, sources;
  for (const auto& s : k.steps) steps.push_back(s.name);
  for (const auto& s : k.schedulers) schedulers.push_back(s.name);
  for (const auto& s : k.changeSources) sources.push_back(s.name);
  EXPECT_EQ(steps, (std::vector<std::string>{"shell", "git", "hg", "svn", "darcs", "brz", "cvs", "tla", "trigger",
                                               "upload_file", "upload_directory", "download_file",
                                               "download_directory"}));
  EXPECT_EQ(schedulers.size(), 9u);
  EXPECT_EQ(sources, (std::vector<std::string>{"git_poller", "hg_poller", "svn_poller", "brz_poller", "github_webhook", "gitlab_webhook", "gitea_webhook"}));
  EXPECT_EQ(k.lockAccess, (std::vector<std::string>{"exclusive", "counting"}));
  ASSERT_NE(k.scheduler("triggerable"), nullptr);
  EXPECT_TRUE(k.scheduler("triggerable")->triggerable);
  EXPECT_FALSE(k.scheduler("force")->triggerable);
}

}  // namespace
}  // namespace bb
