// The IRC reporter against a real IRC server (Debian's ngircd) on
// 127.0.0.1, with test clients in the channel, and a real master and
// slave: every command's answer; an unauthorised nick cannot force and an
// authorised one can (a build runs); announcements with the build's URL;
// a nick in use; a handler that throws (no nick left) closes and
// reconnects; the server restarted: the bot comes back and rejoins.
#include <gtest/gtest.h>

#include <memory>
#include <regex>

#include "tests/functional/harness.hpp"
#include "tests/functional/irc_server.hpp"

namespace bb::test {
namespace {

int ircBuilds(const MasterProcess& m) { return std::stoi(sqlite(m.dbPath(), "SELECT count(*) FROM builds")[0][0]); }

struct IrcEnv {
  TempDir tmp;
  std::string v = makeVerifier("pw");
  IrcServer irc{freePort(), tmp.sub("irc")};
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};
  int botPort = 0;  // where the bot connects (0: irc's plain port)
  std::string top;  // more top-level config

  std::string yaml(const std::string& reporterExtra = "") {
    return "master: {name: it, slave_port: " + std::to_string(master.port()) +
           ", url: \"http://ci.example.org/\"}\n"
           "slaves: [{name: s1, password: " + q(v) + ", max_builds: 1}]\n"
           "users: [{name: alice, password: " + q(v) + ", may: [sendchange, force, status]}]\n"
           "builders:\n"
           "  - {name: b1, slaves: [s1], steps: [{shell: {name: hello, command: \"echo hello\"}}]}\n"
           "  - {name: slow, slaves: [s1], steps: [{shell: {name: wait, command: \"sleep 60\"}}]}\n"
           "schedulers:\n"
           "  - {name: all, type: single_branch, branch: main, builders: [b1], tree_stable_timer: 3600}\n"
           "  - {name: force, type: force, builders: [b1, slow]}\n"
           + top + "reporters:\n"
           "  - {name: chat, type: irc, host: 127.0.0.1, port: " + std::to_string(botPort ? botPort : irc.port()) +
           ", nick: ci-bot, channels: [{name: \"#ci\", notify: [started, finished]}], authorized: [\"ali*\"], "
           "rate: 20, burst: 20, retry: {initial: 1, max: 1}" + reporterExtra + "}\n";
  }
  void start(const std::string& reporterExtra = "") {
    master.create();
    master.writeConfig(yaml(reporterExtra));
    master.setAuth("alice", "pw");
    master.start();
    slave.create();
    slave.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  }
};

// Says `cmd` to the bot in #ci as `peer` and returns the bot's reply line
// that contains every needle.
std::string ask(IrcPeer& peer, const std::string& cmd, const std::vector<std::string>& needles,
                const std::string& bot = "ci-bot") {
  peer.mark();
  peer.say("#ci", bot + ": " + cmd);
  std::vector<std::string> n{":" + bot + "!"};
  n.insert(n.end(), needles.begin(), needles.end());
  auto got = peer.waitFor(n, std::chrono::seconds(15));
  EXPECT_TRUE(got) << "no answer to '" << cmd << "' with " << needles.back() << ":\n" << peer.transcript();
  return got.value_or("");
}

TEST(Irc, AnswersEveryCommandForcesForAuthorisedNicksOnlyAndAnnouncesBuilds) {
  IrcEnv e;
  e.irc.start();
  IrcPeer alice(e.irc.port(), "alice"), mallory(e.irc.port(), "mallory");
  alice.connect();
  alice.join("#ci");
  mallory.connect();
  mallory.join("#ci");
  alice.mark();
  e.start();
  ASSERT_TRUE(alice.waitFor({":ci-bot!", "JOIN", "#ci"})) << alice.transcript() << e.master.log();

  ask(alice, "help", {"cancel REQUEST"});
  ask(alice, "list builders", {"alice: builders: b1, slow"});
  ask(alice, "list slaves", {"slaves: s1 (connected)"});
  ask(alice, "list schedulers", {"schedulers: all (single_branch), force (force)"});
  ask(alice, "list changes", {"no changes yet"});
  ask(alice, "list", {"list what? builders, slaves, changes or schedulers"});
  ask(alice, "frobnicate now", {"unknown command 'frobnicate'; say 'help'"});
  ask(alice, "status nosuch", {"status: no builder named 'nosuch' (builders: b1, slow)"});
  ask(alice, "last b1", {"b1: no build finished yet"});
  ask(alice, "watch b1", {"b1 has no running build to watch"});

  // Not authorised: answered, logged, and nothing is built.
  ask(mallory, "force b1", {"mallory: you are not authorised to force"});
  ask(mallory, "cancel 1", {"you are not authorised to cancel"});
  EXPECT_TRUE(e.master.waitForLog("mallory may not force"));
  EXPECT_EQ(ircBuilds(e.master), 0);

  // Authorised: a build runs, and the channel is told when it starts and ends.
  ask(alice, "force", {"force: usage: force BUILDER"});
  ask(alice, "stop b1 xyz", {"stop: NUMBER must be a positive number, got 'xyz'"});
  alice.mark();
  alice.say("#ci", "ci-bot: force b1 main");
  ASSERT_TRUE(alice.waitFor({":ci-bot!", "forced b1: BuildSet 1"})) << alice.transcript();
  ASSERT_TRUE(alice.waitFor({"PRIVMSG #ci :build started: b1 #1: running http://ci.example.org/"}))
      << alice.transcript();
  ASSERT_TRUE(alice.waitFor({"PRIVMSG #ci :build finished: b1 #1: success", "http://ci.example.org/", "b1",
                             "/builds/1"}))
      << alice.transcript();
  EXPECT_EQ(ircBuilds(e.master), 1);
  ask(alice, "status b1", {"b1: idle, last #1 success"});
  ask(alice, "last b1", {"b1 #1: success", "/builds/1"});

  // Changes and schedulers.
  ASSERT_EQ(e.master.client({"sendchange", "--who", "dev", "--branch", "main", "--revision", "abc123", "f.c"}).rc, 0);
  ask(alice, "list changes", {"change 1 by dev on main abc123"});
  ask(alice, "change-status 1", {"all:"});
  ask(alice, "change-status x", {"change-status: ID must be a positive number"});
  ask(alice, "change-status 99", {"change-status: no change with id 99"});
  ask(alice, "scheduler all", {"all (single_branch)", "held_count=1"});
  ask(alice, "scheduler nope", {"no scheduler named 'nope'"});

  // watch, cancel and stop on a slow builder; a second request waits.
  alice.mark();
  alice.say("#ci", "ci-bot: force slow");
  ASSERT_TRUE(alice.waitFor({"build started: slow #1"})) << alice.transcript();
  const std::string second = ask(alice, "force slow", {"forced slow: BuildSet"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(second, m, std::regex("request (\\d+)"))) << second;
  ask(alice, "status slow", {"slow: building #1, 1 pending"});
  ask(alice, "watch slow", {"watching slow #1: I will say when it ends"});
  ask(alice, "cancel " + m[1].str(), {"request " + m[1].str() + ": cancelled"});
  ask(alice, "cancel " + m[1].str(), {"cancel: request " + m[1].str() + " is already complete"});
  ask(alice, "notify off started finished", {"#ci is told of: nothing"});
  ask(alice, "notify on bogus", {"unknown event 'bogus'"});
  ask(alice, "stop slow 1", {"stopping slow #1"});
  ASSERT_TRUE(alice.waitFor({"PRIVMSG #ci :watched build finished: slow #1"})) << alice.transcript();
  // With started and finished off, the channel heard only the watcher's line.
  EXPECT_EQ(alice.transcript().find("PRIVMSG #ci :build finished: slow #1"), std::string::npos)
      << alice.transcript();

  // submit: a BuildSet through a named force scheduler.
  ask(alice, "notify on failure success", {"#ci is told of: success, failure"});
  ask(alice, "submit nosuch", {"submit: no force scheduler named 'nosuch'"});
  ask(alice, "submit force builders=b1 reason=from irc", {"BuildSet", "submitted through force: requests b1"});
  ASSERT_TRUE(alice.waitFor({"PRIVMSG #ci :build finished: b1 #2: success"})) << alice.transcript();
  EXPECT_EQ(alice.transcript().find("build started: b1 #2"), std::string::npos) << alice.transcript();

  // By private message: answered to the nick, without the address.
  alice.mark();
  alice.say("ci-bot", "status b1");
  ASSERT_TRUE(alice.waitFor({":ci-bot!", "PRIVMSG alice :b1: idle, last #2 success"})) << alice.transcript();
  ask(alice, "notify on started", {"#ci is told of: started, success, failure"});
  alice.mark();
  alice.say("ci-bot", "notify on started");
  ASSERT_TRUE(alice.waitFor({"PRIVMSG alice :notify: notify works in a channel"})) << alice.transcript();
  // Said to someone else: the bot keeps quiet.
  alice.mark();
  alice.say("#ci", "mallory: list builders");
  alice.say("#ci", "ci-bot: list builders");
  auto next = alice.waitFor({":ci-bot!"});
  ASSERT_TRUE(next);
  EXPECT_NE(next->find("builders: b1, slow"), std::string::npos) << *next;
}

TEST(Irc, NickInUseHandlerFailureAndServerRestartReconnectAndRejoin) {
  IrcEnv e;
  e.irc.start();
  // Every nick the bot may take is in use: registration fails in its
  // handler, which closes the connection (a log line) and tries again.
  std::vector<std::unique_ptr<IrcPeer>> squatters;
  squatters.push_back(std::make_unique<IrcPeer>(e.irc.port(), "ci-bot"));
  for (int i = 1; i <= 3; ++i)
    squatters.push_back(std::make_unique<IrcPeer>(e.irc.port(), "ci-bot_" + std::to_string(i)));
  for (auto& s : squatters) s->connect();
  IrcPeer alice(e.irc.port(), "alice");
  alice.connect();
  alice.join("#ci");
  e.start();
  ASSERT_TRUE(e.master.waitForLog("no nick based on 'ci-bot' is free; closing the connection and reconnecting",
                                  30s))
      << e.master.log() << e.irc.log();
  // One nick frees: the bot takes it (with its suffix) and answers to it.
  alice.mark();
  squatters[1].reset();
  ASSERT_TRUE(alice.waitFor({":ci-bot_1!", "JOIN", "#ci"}, 30s)) << alice.transcript() << e.master.log();
  ask(alice, "list builders", {"builders: b1, slow"}, "ci-bot_1");
  EXPECT_TRUE(e.master.waitForLog("nick ci-bot is in use; trying ci-bot_1"));

  // The server goes away and comes back: the bot reconnects, rejoins and
  // answers; the master kept running builds meanwhile.
  squatters.clear();
  e.irc.stop();
  ASSERT_TRUE(e.master.waitForLog("connecting again", 10s));
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force", "--builder", "b1"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return ircBuilds(e.master) == 1; }, 30s)) << e.master.log();
  e.irc.start();
  IrcPeer bob(e.irc.port(), "bob");
  bob.connect();
  bob.join("#ci");
  // The bot may be back before bob: the channel's member list says.
  const bool back = waitFor(
      [&] {
        bob.mark();
        bob.send("NAMES #ci");
        auto names = bob.waitFor({" 353 bob ", "#ci :"}, 2s);
        return names && names->find("ci-bot", names->find("#ci :")) != std::string::npos;
      },
      20s);
  ASSERT_TRUE(back) << bob.transcript() << e.master.log();
  ask(bob, "last b1", {"b1 #1: success"});
  EXPECT_TRUE(e.master.running());
}

// TLS to the server (ngircd's SSL port, a self-signed certificate, so
// tls_verify: false); the bot logs in and answers there as on a plain
// connection.
TEST(Irc, ConnectsOverTlsAndIdentifiesToNickServ) {
  IrcEnv e;
  const CmdResult cert = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                              e.tmp.sub("irc.key"), "-out", e.tmp.sub("irc.crt"), "-days", "1", "-subj",
                              "/CN=127.0.0.1"});
  ASSERT_EQ(cert.rc, 0) << cert.describe();
  e.botPort = freePort();
  e.irc.enableTls(e.botPort, e.tmp.sub("irc.crt"), e.tmp.sub("irc.key"));
  e.irc.start();
  IrcPeer alice(e.irc.port(), "alice");
  alice.connect();
  alice.join("#ci");
  // NickServ is a test client here (ngircd has no services): it sees the
  // IDENTIFY with the secret's value. ngircd has no SASL either: the bot
  // is refused it (CAP NAK), says so, and registers without.
  IrcPeer nickserv(e.irc.port(), "NickServ");
  nickserv.connect();
  writeFile(e.master.dir() + "/irc.pass", "s3cret\n");
  e.top = "secrets: {ircpw: {file: irc.pass}}\n";
  e.start(", tls: true, tls_verify: false, nickserv_password: \"%(secret:ircpw)s\", "
          "sasl: {user: ci-bot, password: \"%(secret:ircpw)s\"}");
  ASSERT_TRUE(alice.waitFor({":ci-bot!", "JOIN", "#ci"})) << alice.transcript() << e.master.log() << e.irc.log();
  EXPECT_TRUE(nickserv.waitFor({":ci-bot!", "PRIVMSG NickServ :IDENTIFY s3cret"})) << nickserv.transcript();
  EXPECT_TRUE(e.master.waitForLog("the server does not offer SASL; continuing without logging in"));
  EXPECT_EQ(e.master.log().find("s3cret"), std::string::npos) << "the password is in the log";
  EXPECT_TRUE(e.master.waitForLog("irc reporter 'chat': connected to 127.0.0.1:" + std::to_string(e.botPort) +
                                  " (TLS)"));
  ask(alice, "list builders", {"builders: b1, slow"});
}

}  // namespace
}  // namespace bb::test
