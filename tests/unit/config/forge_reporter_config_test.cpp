// The commit-status and HTTP push reporters' keys: defaults, every key
// read, and each mistake (no token, a token that is not a secret, a bad
// URL, an unknown event) reported clearly.
#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "master/reporters/forge_config.hpp"
#include "master/reporters/http_push_config.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::expectErrorAt;
using test::kVerifier;

// The reporters section starts at line 6, its first item at line 7.
std::string forgeConfig(const std::string& reporters) {
  return "slaves:\n"
         "  - { name: s1, password: \"" + kVerifier + "\" }\n"
         "builders:\n"
         "  - { name: b1, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "schedulers: [{ name: main, type: force, builders: [b1] }]\n"
         "reporters:\n" + reporters;
}

ConfigResult<MasterConfig> parse(const std::string& reporters) {
  return parseMasterConfig(forgeConfig(reporters), "t.yaml", masterConfigKinds());
}

TEST(ForgeReporterConfig, GitHubDefaults) {
  auto r = parse("  - { name: gh, type: github_status, token: \"%(secret:gh)s\" }\n");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto& o = r.config->reporters[0].as<ForgeOptions>();
  EXPECT_EQ(o.forge, Forge::GitHub);
  EXPECT_EQ(o.baseUrl, "https://api.github.com");
  EXPECT_EQ(o.token, "%(secret:gh)s");
  EXPECT_EQ(o.context, "buildbot/{builder}");
  EXPECT_TRUE(o.repository.empty());
  EXPECT_TRUE(o.builders.empty());
  EXPECT_EQ(o.maxQueued, 1000u);
  EXPECT_EQ(o.timeout.count(), 30);
  ASSERT_EQ(r.config->secrets.uses.size(), 1u);
  EXPECT_EQ(r.config->secrets.uses[0].name, "gh");
}

TEST(ForgeReporterConfig, EveryKey) {
  auto r = parse("  - name: gl\n"
                 "    type: gitlab_status\n"
                 "    base_url: \"https://gitlab.example.org\"\n"
                 "    token: \"%(secret:gl)s\"\n"
                 "    repository: group/sub/app\n"
                 "    context: \"{master}/{builder}\"\n"
                 "    builders: [b1]\n"
                 "    queue: 5\n"
                 "    retry: { initial: 2, max: 8 }\n"
                 "    timeout: 7\n"
                 "    tls_verify: false\n");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto& o = r.config->reporters[0].as<ForgeOptions>();
  EXPECT_EQ(o.forge, Forge::GitLab);
  EXPECT_EQ(o.baseUrl, "https://gitlab.example.org");
  EXPECT_EQ(o.repository, "group/sub/app");
  EXPECT_EQ(o.context, "{master}/{builder}");
  EXPECT_EQ(o.builders, std::vector<std::string>{"b1"});
  EXPECT_EQ(o.maxQueued, 5u);
  EXPECT_EQ(o.retryInitial.count(), 2);
  EXPECT_EQ(o.retryMax.count(), 8);
  EXPECT_EQ(o.timeout.count(), 7);
  EXPECT_FALSE(o.tlsVerify);
}

TEST(ForgeReporterConfig, Mistakes) {
  auto noToken = parse("  - { name: gh, type: github_status }\n");
  ASSERT_FALSE(noToken.ok());
  expectErrorAt(noToken.errors, "missing required key 'token'", 7, 5);

  auto literal = parse("  - { name: gh, type: github_status, token: ghp_abcdef }\n");
  ASSERT_FALSE(literal.ok());
  expectErrorAt(literal.errors, "token must be exactly \"%(secret:NAME)s\"", 7, 45);
  EXPECT_EQ(dump(literal.errors).find("ghp_abcdef"), std::string::npos) << "the token is not echoed";

  auto badUrl = parse("  - { name: gt, type: gitea_status, token: \"%(secret:t)s\", base_url: \"ftp://x\" }\n");
  ASSERT_FALSE(badUrl.ok());
  EXPECT_NE(test::findError(badUrl.errors, "base_url 'ftp://x' must start with http:// or https://"), nullptr)
      << dump(badUrl.errors);

  auto giteaNoBase = parse("  - { name: gt, type: gitea_status, token: \"%(secret:t)s\" }\n");
  ASSERT_FALSE(giteaNoBase.ok());
  EXPECT_NE(test::findError(giteaNoBase.errors, "missing required key 'base_url'"), nullptr) << dump(giteaNoBase.errors);

  auto badRepo = parse("  - { name: gh, type: github_status, token: \"%(secret:t)s\", repository: a/b/c }\n");
  ASSERT_FALSE(badRepo.ok());
  EXPECT_NE(test::findError(badRepo.errors, "repository must be OWNER/REPO"), nullptr) << dump(badRepo.errors);

  auto badContext = parse("  - { name: gh, type: github_status, token: \"%(secret:t)s\", context: \"{nope}\" }\n");
  ASSERT_FALSE(badContext.ok());
  EXPECT_NE(test::findError(badContext.errors, "unknown placeholder {nope}"), nullptr) << dump(badContext.errors);

  auto badBuilder = parse("  - { name: gh, type: github_status, token: \"%(secret:t)s\", builders: [nope] }\n");
  ASSERT_FALSE(badBuilder.ok());
  EXPECT_NE(test::findError(badBuilder.errors, "nope"), nullptr) << dump(badBuilder.errors);
}

TEST(ForgeReporterConfig, AnUndefinedTokenSecretIsAnErrorWhenSecretsAreRead) {
  auto r = parse("  - { name: gh, type: github_status, token: \"%(secret:missing_token)s\" }\n");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto problems = resolveSecrets(*r.config, "/nonexistent");
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(test::findError(problems, "missing_token"), nullptr) << dump(problems);
}

TEST(HttpPushConfig, KeysAndTopics) {
  auto r = parse("  - name: hook\n"
                 "    type: http_push\n"
                 "    url: \"http://127.0.0.1:9/hook\"\n"
                 "    events: [build, buildset.completed]\n"
                 "    secret: \"%(secret:hook)s\"\n"
                 "    headers: { X-Team: ci, Authorization: \"Bearer %(secret:hook_auth)s\" }\n");
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto& o = r.config->reporters[0].as<HttpPushOptions>();
  EXPECT_EQ(o.url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(o.events, (std::set<EventType>{EventType::BuildStarted, EventType::BuildFinished,
                                           EventType::BuildsetCompleted}));
  EXPECT_EQ(o.secret, "%(secret:hook)s");
  EXPECT_EQ(o.headers.at("X-Team"), "ci");
  EXPECT_EQ(r.config->secrets.uses.size(), 2u);
}

TEST(HttpPushConfig, Mistakes) {
  auto noUrl = parse("  - { name: h, type: http_push, events: [build] }\n");
  ASSERT_FALSE(noUrl.ok());
  EXPECT_NE(test::findError(noUrl.errors, "missing required key 'url'"), nullptr) << dump(noUrl.errors);

  auto badUrl = parse("  - { name: h, type: http_push, url: \"http://:80/x\", events: [build] }\n");
  ASSERT_FALSE(badUrl.ok());
  EXPECT_NE(test::findError(badUrl.errors, "has no host"), nullptr) << dump(badUrl.errors);

  auto badEvent = parse("  - { name: h, type: http_push, url: \"http://h/x\", events: [build.exploded] }\n");
  ASSERT_FALSE(badEvent.ok());
  EXPECT_NE(test::findError(badEvent.errors, "unknown topic or event 'build.exploded'"), nullptr)
      << dump(badEvent.errors);

  auto literalSecret = parse("  - { name: h, type: http_push, url: \"http://h/x\", events: [build], secret: s3cr3t }\n");
  ASSERT_FALSE(literalSecret.ok());
  EXPECT_NE(test::findError(literalSecret.errors, "secret must be exactly"), nullptr) << dump(literalSecret.errors);

  auto reserved = parse("  - { name: h, type: http_push, url: \"http://h/x\", events: [build], "
                        "headers: { X-Buildbot-Signature: x } }\n");
  ASSERT_FALSE(reserved.ok());
  EXPECT_NE(test::findError(reserved.errors, "cannot be set here"), nullptr) << dump(reserved.errors);
}

}  // namespace
}  // namespace bb
