// The `reporters:` section and the mail reporter's keys: defaults, every
// key read, and each mistake reported at its line:column.
#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "master/reporters/mail_config.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::expectErrorAt;
using test::kVerifier;

// Lines 1-5 are a slave, builder b1 and scheduler main; the reporters
// section starts at line 6 ("reporters:"), its first item at line 7.
std::string mailConfig(const std::string& reporters) {
  return "slaves:\n"
         "  - { name: s1, password: \"" + kVerifier + "\" }\n"
         "builders:\n"
         "  - { name: b1, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "schedulers: [{ name: main, type: force, builders: [b1] }]\n"
         "reporters:\n" + reporters;
}

TEST(MailReporterConfig, Defaults) {
  auto r = parseMasterConfig(
      mailConfig("  - { name: m, type: mail, smtp: \"smtp://127.0.0.1:25\", from: ci@example.org, to: [a@example.org] }\n"),
      "t.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  ASSERT_EQ(r.config->reporters.size(), 1u);
  const auto& e = r.config->reporters[0];
  EXPECT_EQ(e.name, "m");
  EXPECT_EQ(e.type, "mail");
  const auto& o = e.as<MailOptions>();
  EXPECT_EQ(o.smtpUrl, "smtp://127.0.0.1:25");
  EXPECT_FALSE(o.starttls);
  EXPECT_TRUE(o.tlsVerify);
  EXPECT_EQ(o.modes, std::set<MailMode>{MailMode::All});
  EXPECT_FALSE(o.buildsets);
  EXPECT_FALSE(o.blamelist);
  EXPECT_FALSE(o.attachLogs);
  EXPECT_EQ(o.maxLogBytes, 64u * 1024);
  EXPECT_EQ(o.maxMailBytes, 1024u * 1024);
  EXPECT_FALSE(o.subject.has_value());
  EXPECT_EQ(o.maxQueued, 100u);
  EXPECT_EQ(o.retryInitial.count(), 1);
  EXPECT_EQ(o.retryMax.count(), 300);
}

TEST(MailReporterConfig, EveryKey) {
  auto r = parseMasterConfig(
      mailConfig("  - name: m\n"
             "    type: mail\n"
             "    smtp: \"smtp://mail.example.org:587\"\n"
             "    starttls: true\n"
             "    tls_verify: false\n"
             "    login: { user: ci, password: \"%(secret:smtp)s\" }\n"
             "    from: \"CI <ci@example.org>\"\n"
             "    to: [\"Dev <dev@example.org>\"]\n"
             "    builders: [b1]\n"
             "    schedulers: [main]\n"
             "    buildsets: true\n"
             "    mode: [failing, problem, change]\n"
             "    builder_recipients: { b1: [owner@example.org] }\n"
             "    blamelist: true\n"
             "    logs: true\n"
             "    max_log_bytes: 2000\n"
             "    max_mail_bytes: 9000\n"
             "    subject: \"{builder} {result}\"\n"
             "    body: \"{url}\\n{{literal}}\\n\"\n"
             "    queue: 7\n"
             "    retry: { initial: 2, max: 20 }\n"
             "    timeout: 9\n"),
      "t.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto& o = r.config->reporters.at(0).as<MailOptions>();
  EXPECT_TRUE(o.starttls);
  EXPECT_FALSE(o.tlsVerify);
  EXPECT_EQ(o.user, "ci");
  EXPECT_EQ(o.password, "%(secret:smtp)s");
  EXPECT_EQ(o.from, "CI <ci@example.org>");
  EXPECT_EQ(o.to, std::vector<std::string>{"Dev <dev@example.org>"});
  EXPECT_EQ(o.builders, std::vector<std::string>{"b1"});
  EXPECT_EQ(o.schedulers, std::vector<std::string>{"main"});
  EXPECT_TRUE(o.buildsets);
  EXPECT_EQ(o.modes, (std::set<MailMode>{MailMode::Failing, MailMode::Problem, MailMode::Change}));
  EXPECT_EQ(o.builderRecipients.at("b1"), std::vector<std::string>{"owner@example.org"});
  EXPECT_TRUE(o.blamelist);
  EXPECT_TRUE(o.attachLogs);
  EXPECT_EQ(o.maxLogBytes, 2000u);
  EXPECT_EQ(o.maxMailBytes, 9000u);
  EXPECT_EQ(*o.subject, "{builder} {result}");
  EXPECT_EQ(o.maxQueued, 7u);
  EXPECT_EQ(o.retryInitial.count(), 2);
  EXPECT_EQ(o.retryMax.count(), 20);
  EXPECT_EQ(o.timeout.count(), 9);
  ASSERT_EQ(r.config->secrets.uses.size(), 1u);
  EXPECT_EQ(r.config->secrets.uses[0].name, "smtp");
}

TEST(MailReporterConfig, ASingleModeMayBeAString) {
  auto r = parseMasterConfig(
      mailConfig("  - { name: m, type: mail, smtp: \"smtps://h.example.org\", from: a@example.org, blamelist: true, "
             "mode: problem }\n"),
      "t.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->reporters[0].as<MailOptions>().modes, std::set<MailMode>{MailMode::Problem});
}

TEST(MailReporterConfig, MistakesAreReportedWhereTheyAre) {
  auto r = parseMasterConfig(
      mailConfig("  - name: m\n"                                   // 7
             "    type: mail\n"                                // 8
             "    smtp: \"http://mail.example.org\"\n"         // 9
             "    from: nobody\n"                              // 10
             "    to: [ok@example.org, \"not an address\"]\n"  // 11
             "    builders: [b1, nosuch]\n"                    // 12
             "    mode: [failing, sometimes]\n"                // 13
             "    subject: \"{builder} {colour}\"\n"           // 14
             "    body: \"oops {\"\n"                          // 15
             "    retry: { initial: 10, max: 5 }\n"            // 16
             "    colour: blue\n"                              // 17
             "  - { name: m, type: pigeon }\n"),               // 18
      "t.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  expectErrorAt(r.errors, "smtp must be smtp://HOST[:PORT] or smtps://HOST[:PORT], got 'http://mail.example.org'", 9, 11);
  expectErrorAt(r.errors, "from: 'nobody' is not a mail address", 10, 11);
  expectErrorAt(r.errors, "to: 'not an address' is not a mail address", 11, 26);
  expectErrorAt(r.errors, "unknown builder 'nosuch'", 12, 20);
  expectErrorAt(r.errors, "mode: unknown mode 'sometimes'; allowed: all|failing|passing|problem|change|warnings|exception",
                13, 21);
  expectErrorAt(r.errors, "subject: unknown placeholder {colour}", 14, 14);
  expectErrorAt(r.errors, "body: unclosed '{' at offset 5", 15, 11);
  expectErrorAt(r.errors, "max (5 s) must not be less than initial (10 s)", 16, 32);
  expectErrorAt(r.errors, "unknown key 'colour'", 17, 5);
  EXPECT_NE(test::findError(r.errors, "duplicate reporter name 'm'"), nullptr) << dump(r.errors);
  const ConfigError* pigeon = test::findError(r.errors, "'pigeon'");
  ASSERT_NE(pigeon, nullptr) << dump(r.errors);
  EXPECT_EQ(pigeon->line, 18);
}

TEST(MailReporterConfig, ARequiredKeyMissingOrNoRecipientIsAnError) {
  auto r = parseMasterConfig(mailConfig("  - { name: m, type: mail, smtp: \"smtp://h.example.org\" }\n"),
                             "t.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(test::findError(r.errors, "missing required key 'from'"), nullptr) << dump(r.errors);
  EXPECT_NE(test::findError(r.errors, "no recipients; give to: [ADDRESS...], builder_recipients or blamelist: true"),
            nullptr)
      << dump(r.errors);
  auto s = parseMasterConfig(
      mailConfig("  - { name: m, type: mail, smtp: \"smtps://h.example.org\", starttls: true, from: a@example.org, "
             "to: [b@example.org] }\n"),
      "t.yaml", masterConfigKinds());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(test::findError(s.errors, "starttls applies to smtp:// only"), nullptr) << dump(s.errors);
}

TEST(MailReporterConfig, AnUnknownSecretInTheLoginIsReportedWhenSecretsAreRead) {
  auto r = parseMasterConfig(
      mailConfig("  - { name: m, type: mail, smtp: \"smtp://h.example.org\", from: a@example.org, to: [b@example.org], "
             "login: { user: u, password: \"%(secret:nope)s\" } }\n"),
      "t.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto problems = resolveSecrets(*r.config, "/nonexistent");
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(test::findError(problems, "nope"), nullptr) << dump(problems);
}

}  // namespace
}  // namespace bb
