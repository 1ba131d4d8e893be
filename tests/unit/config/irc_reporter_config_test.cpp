// The irc reporter's keys: defaults, every key read, and mistakes
// reported at their line.
#include <gtest/gtest.h>

#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "master/reporters/irc_config.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::kVerifier;

std::string ircConfig(const std::string& reporters) {
  return "slaves:\n"
         "  - { name: s1, password: \"" + kVerifier + "\" }\n"
         "builders:\n"
         "  - { name: b1, slaves: [s1], steps: [{ shell: { command: make } }] }\n"
         "schedulers: [{ name: main, type: force, builders: [b1] }]\n"
         "reporters:\n" + reporters;
}

TEST(IrcReporterConfig, Defaults) {
  auto r = parseMasterConfig(ircConfig("  - { name: c, type: irc, host: irc.example.org, nick: bot, channels: [\"#ci\"] }\n"),
                             "t.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto& o = r.config->reporters[0].as<IrcOptions>();
  EXPECT_EQ(o.host, "irc.example.org");
  EXPECT_EQ(o.port, 6667);
  EXPECT_FALSE(o.tls);
  EXPECT_TRUE(o.tlsVerify);
  ASSERT_EQ(o.channels.size(), 1u);
  EXPECT_EQ(o.channels[0].name, "#ci");
  EXPECT_EQ(o.channels[0].notify, std::set<IrcEvent>{IrcEvent::Finished});
  EXPECT_TRUE(o.authorized.empty());
  EXPECT_EQ(o.rate, 2.0);
  EXPECT_EQ(o.burst, 5);
  EXPECT_EQ(o.maxQueued, 100u);
}

TEST(IrcReporterConfig, EveryKey) {
  auto r = parseMasterConfig(
      ircConfig("  - name: c\n    type: irc\n    host: irc.example.org\n    tls: true\n    tls_verify: false\n"
             "    nick: bot\n    realname: CI bot\n    password: \"%(secret:ircpw)s\"\n"
             "    nickserv_password: \"%(secret:ircpw)s\"\n    sasl: {user: bot, password: \"%(secret:ircpw)s\"}\n"
             "    notify: [failure]\n"
             "    channels: [\"#a\", {name: \"#b\", key: k, notify: [started, problem]}]\n"
             "    authorized: [\"ali*\"]\n    rate: 0.5\n    burst: 3\n    queue: 7\n    retry: {initial: 2, max: 9}\n"),
      "t.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const auto& o = r.config->reporters[0].as<IrcOptions>();
  EXPECT_EQ(o.port, 6697);
  EXPECT_TRUE(o.tls);
  EXPECT_FALSE(o.tlsVerify);
  EXPECT_EQ(o.realname, "CI bot");
  EXPECT_EQ(o.saslUser, "bot");
  EXPECT_EQ(o.serverPassword, "%(secret:ircpw)s");
  EXPECT_EQ(o.channels[0].notify, std::set<IrcEvent>{IrcEvent::Failure});
  EXPECT_EQ(o.channels[1].key, "k");
  EXPECT_EQ(o.channels[1].notify, (std::set<IrcEvent>{IrcEvent::Started, IrcEvent::Problem}));
  EXPECT_EQ(o.authorized, std::vector<std::string>{"ali*"});
  EXPECT_EQ(o.rate, 0.5);
  EXPECT_EQ(o.burst, 3);
  EXPECT_EQ(o.maxQueued, 7u);
  EXPECT_EQ(o.retryMax.count(), 9);
}

TEST(IrcReporterConfig, MistakesAreNamed) {
  auto r = parseMasterConfig(
      ircConfig("  - { name: c, type: irc, host: \"irc://x\", nick: 9bot, channels: [ci, {name: \"#x\", notify: [nope]}],"
             " rate: 0 }\n"),
      "t.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  const std::string all = dump(r.errors);
  EXPECT_NE(all.find("host must be a host name"), std::string::npos) << all;
  EXPECT_NE(all.find("nick '9bot' is not an IRC nick"), std::string::npos) << all;
  EXPECT_NE(all.find("channels: 'ci' is not a channel name"), std::string::npos) << all;
  EXPECT_NE(all.find("notify: unknown event 'nope'"), std::string::npos) << all;
  EXPECT_NE(all.find("rate must be a number"), std::string::npos) << all;
  auto none = parseMasterConfig(ircConfig("  - { name: c, type: irc, host: h, nick: bot }\n"), "t.yaml",
                                masterConfigKinds());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(dump(none.errors).find("channels must be a non-empty list"), std::string::npos) << dump(none.errors);
}

}  // namespace
}  // namespace bb
