// The mail reporter against a real SMTP server (aiosmtpd, smtp_sink.py)
// on 127.0.0.1: real master and slave running real steps. Each mode sends
// exactly the mails it should for pass, fail, fail, pass; logs are
// attached within their caps; a server that is down while a build ends
// gets the mail once it is back; a BuildSet watcher gets one mail per
// BuildSet.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "tests/functional/harness.hpp"
#include "tests/functional/smtp_sink.hpp"

namespace bb::test {
namespace {

int mailFinishedBuilds(const MasterProcess& m) {
  return std::stoi(sqlite(m.dbPath(), "SELECT count(*) FROM builds WHERE finished = 1")[0][0]);
}

std::string head(const std::string& port, const std::string& v) {
  return "master: {name: mt, slave_port: " + port + ", url: \"http://ci.example.org/\"}\n"
         "slaves: [{name: s1, password: " + q(v) + "}]\n"
         "users: [{name: alice, password: " + q(v) + ", may: [sendchange, force, status]}]\n";
}

std::string mailReporter(const std::string& name, int smtpPort, const std::string& extra) {
  return "  - {name: " + name + ", type: mail, smtp: \"smtp://127.0.0.1:" + std::to_string(smtpPort) +
         "\", from: \"CI <ci@example.org>\", retry: {initial: 1, max: 2}, " + extra + "}\n";
}

struct MailEnv {
  TempDir tmp;
  std::string v = makeVerifier("pw");
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};
  SmtpSink smtp{freePort(), tmp.sub("mail")};

  void start(const std::string& yaml) {
    smtp.start();
    master.create();
    master.writeConfig(yaml);
    master.setAuth("alice", "pw");
    master.start();
    slave.create();
    slave.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  }
  void force(const std::string& scheduler, int expectFinished) {
    ASSERT_EQ(master.client({"force", "--scheduler", scheduler}).rc, 0);
    ASSERT_TRUE(waitFor([&] { return mailFinishedBuilds(master) >= expectFinished; }, 60s)) << master.log();
  }
  // Waits for `n` messages, then a moment more for any beyond them.
  std::vector<Json> mails(std::size_t n) {
    EXPECT_TRUE(waitFor([&] { return smtp.messages().size() >= n; }, 30s))
        << smtp.messages().size() << " mails\n" << master.log();
    std::this_thread::sleep_for(1s);
    return smtp.messages();
  }
};

// recipient -> subjects, in arrival order.
std::map<std::string, std::vector<std::string>> byRecipient(const std::vector<Json>& mails) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& m : mails)
    for (const auto& r : m["rcpt_tos"]) out[r.get<std::string>()].push_back(m["subject"].get<std::string>());
  return out;
}

TEST(Mail, EachModeMailsExactlyTheBuildsItShouldForPassFailFailPass) {
  MailEnv e;
  const std::string verdict = e.tmp.sub("verdict");
  std::string yaml = head(std::to_string(e.master.port()), e.v) +
      "builders:\n"
      "  - name: b1\n"
      "    slaves: [s1]\n"
      "    steps:\n"
      "      - {shell: {name: prepare, command: \"head -c 3000 /dev/zero | tr '\\\\0' y; echo\"}}\n"
      "      - {shell: {name: verdict, command: \"head -c 3000 /dev/zero | tr '\\\\0' x; echo; echo END-OF-LOG; "
      "exit $(cat " + verdict + ")\"}}\n"
      "schedulers: [{name: force, type: force, builders: [b1]}]\n"
      "reporters:\n";
  yaml += mailReporter("m-all", e.smtp.port(),
                       "to: [all@example.org], mode: all, logs: true, max_log_bytes: 1000, max_mail_bytes: 1500");
  for (const std::string mode : {"failing", "passing", "problem", "change", "warnings", "exception"})
    yaml += mailReporter("m-" + mode, e.smtp.port(), "to: [" + mode + "@example.org], mode: " + mode +
                                                         ", builders: [b1]");
  e.start(yaml);
  int n = 0;
  for (const char* v : {"0", "1", "1", "0"}) {
    writeFile(verdict, v);
    e.force("force", ++n);
  }
  const auto mails = e.mails(11);
  ASSERT_EQ(mails.size(), 11u) << e.master.log();
  auto got = byRecipient(mails);
  const std::vector<std::string> s1 = {"[mt] b1 #1: success"}, s2 = {"[mt] b1 #2: failure"},
                                 s3 = {"[mt] b1 #3: failure"}, s4 = {"[mt] b1 #4: success"};
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(got["all@example.org"]), (std::vector<std::string>{s1[0], s2[0], s3[0], s4[0]}));
  EXPECT_EQ(sorted(got["failing@example.org"]), (std::vector<std::string>{s2[0], s3[0]}));
  EXPECT_EQ(sorted(got["passing@example.org"]), (std::vector<std::string>{s1[0], s4[0]}));
  EXPECT_EQ(got["problem@example.org"], s2);
  EXPECT_EQ(sorted(got["change@example.org"]), (std::vector<std::string>{s2[0], s4[0]}));
  EXPECT_EQ(got.count("warnings@example.org"), 0u);
  EXPECT_EQ(got.count("exception@example.org"), 0u);

  // The message: MIME, headers, the build's URL, result and steps; both
  // logs attached, each within max_log_bytes, together within
  // max_mail_bytes, their ends kept, and the cut said.
  const Json* fail2 = nullptr;
  for (const auto& m : mails)
    if (m["rcpt_tos"][0] == "all@example.org" && m["subject"] == s2[0]) fail2 = &m;
  ASSERT_NE(fail2, nullptr);
  const Json& m = *fail2;
  EXPECT_EQ(m["content_type"], "multipart/mixed");
  EXPECT_EQ(m["mail_from"], "ci@example.org");
  EXPECT_NE(m["from"].get<std::string>().find("ci@example.org"), std::string::npos);
  EXPECT_FALSE(m["date"].get<std::string>().empty());
  EXPECT_NE(m["message_id"].get<std::string>().find("@example.org>"), std::string::npos) << m["message_id"];
  const std::string body = m["body"];
  EXPECT_NE(body.find("http://ci.example.org/builders/b1/builds/2"), std::string::npos) << body;
  EXPECT_NE(body.find("2 verdict: failure"), std::string::npos) << body;
  EXPECT_NE(body.find("1 prepare: success"), std::string::npos) << body;
  EXPECT_NE(body.find("cut to its last"), std::string::npos) << body;
  ASSERT_EQ(m["attachments"].size(), 2u) << m.dump();
  const std::string a1 = m["attachments"][0]["content"], a2 = m["attachments"][1]["content"];
  EXPECT_EQ(m["attachments"][0]["filename"], "1-prepare-stdio.log");
  EXPECT_EQ(m["attachments"][1]["filename"], "2-verdict-stdio.log");
  const std::string note = "the whole log is on the build's page]\n";
  ASSERT_NE(a1.find(note), std::string::npos);
  ASSERT_NE(a2.find(note), std::string::npos);
  const std::string kept1 = a1.substr(a1.find(note) + note.size()), kept2 = a2.substr(a2.find(note) + note.size());
  EXPECT_EQ(kept1.size(), 1000u);
  EXPECT_EQ(kept2.size(), 500u) << "the mail's 1500 bytes leave 500 for the second log";
  EXPECT_NE(kept2.find("END-OF-LOG"), std::string::npos) << "the log's end is kept";
  // Modes without logs: no attachment.
  for (const auto& x : mails)
    if (x["rcpt_tos"][0] != "all@example.org") {
      EXPECT_TRUE(x["attachments"].empty());
    }
}

TEST(Mail, AMailServerDownWhenTheBuildEndsGetsTheMailOnceItIsBack) {
  MailEnv e;
  std::string yaml = head(std::to_string(e.master.port()), e.v) +
      "builders: [{name: b1, slaves: [s1], steps: [{shell: {name: slow, command: \"sleep 1\"}}]}]\n"
      "schedulers: [{name: force, type: force, builders: [b1]}]\n"
      "reporters:\n" +
      mailReporter("m", e.smtp.port(), "to: [dev@example.org]");
  e.start(yaml);
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return std::stoi(sqlite(e.master.dbPath(), "SELECT count(*) FROM builds")[0][0]) == 1; },
                      30s));
  e.smtp.stop();
  ASSERT_TRUE(waitFor([&] { return mailFinishedBuilds(e.master) == 1; }, 30s)) << e.master.log();
  ASSERT_TRUE(e.master.waitForLog("not delivered", 30s)) << e.master.log();
  EXPECT_TRUE(e.smtp.messages().empty());
  // Builds go on while the mail waits.
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force"}).rc, 0);
  ASSERT_TRUE(waitFor([&] { return mailFinishedBuilds(e.master) == 2; }, 30s)) << e.master.log();
  e.smtp.start();
  const auto mails = e.mails(2);
  ASSERT_EQ(mails.size(), 2u) << e.master.log();
  EXPECT_EQ(mails[0]["subject"], "[mt] b1 #1: success");
  EXPECT_EQ(mails[1]["subject"], "[mt] b1 #2: success");
  EXPECT_TRUE(e.master.running());
}

TEST(Mail, ABuildsetWatcherGetsOneMailPerBuildsetWithEveryBuildAndTheBlamelist) {
  MailEnv e;
  std::string yaml = head(std::to_string(e.master.port()), e.v) +
      "builders:\n"
      "  - {name: b1, slaves: [s1], steps: [{shell: {name: one, command: \"echo one\"}}]}\n"
      "  - {name: b2, slaves: [s1], steps: [{shell: {name: two, command: \"exit 1\"}}]}\n"
      "schedulers: [{name: main, type: single_branch, branch: main, builders: [b1, b2]}]\n"
      "reporters:\n" +
      mailReporter("bs", e.smtp.port(),
                   "to: [team@example.org], buildsets: true, schedulers: [main], blamelist: true, "
                   "subject: \"BuildSet {buildset_id}: {result} ({builder})\"");
  e.start(yaml);
  const CmdResult sc = e.master.client({"sendchange", "--who", "Carol <carol@example.org>", "--branch", "main",
                                        "--revision", "abc123", "--comments", "fix the frobnicator", "f.c"});
  ASSERT_EQ(sc.rc, 0) << sc.describe();
  ASSERT_TRUE(waitFor([&] { return mailFinishedBuilds(e.master) == 2; }, 60s)) << e.master.log();
  const auto mails = e.mails(1);
  ASSERT_EQ(mails.size(), 1u) << e.master.log();
  const Json& m = mails[0];
  EXPECT_EQ(m["subject"], "BuildSet 1: failure (b1, b2)");
  EXPECT_EQ(m["rcpt_tos"], (Json{"team@example.org", "carol@example.org"}));
  const std::string body = m["body"];
  EXPECT_NE(body.find("http://ci.example.org/buildsets/1"), std::string::npos) << body;
  EXPECT_NE(body.find("b1 #1: success"), std::string::npos) << body;
  EXPECT_NE(body.find("b2 #1: failure"), std::string::npos) << body;
  EXPECT_NE(body.find("http://ci.example.org/builders/b2/builds/1"), std::string::npos) << body;
  EXPECT_NE(body.find("abc123 by Carol <carol@example.org>"), std::string::npos) << body;
  EXPECT_NE(body.find("fix the frobnicator"), std::string::npos) << body;
}

// The login's password comes from a secret. A server that refuses the
// login delays the mail (retried, the master goes on); a reconfig that
// fixes the secret sends the waiting mail with the new password.
TEST(Mail, LogsInWithThePasswordFromASecretAndAReconfigFixesAWrongOne) {
  MailEnv e;
  e.smtp.requireLogin("ci", "right-password");
  writeFile(e.tmp.sub("master/smtp_password"), "right-password\n");
  std::string yaml = head(std::to_string(e.master.port()), e.v) +
      "secrets: { smtp: { file: smtp_password } }\n"
      "builders: [{name: b1, slaves: [s1], steps: [{shell: {name: hello, command: \"echo hello\"}}]}]\n"
      "schedulers: [{name: force, type: force, builders: [b1]}]\n"
      "reporters:\n" +
      mailReporter("m", e.smtp.port(),
                   "to: [dev@example.org], timeout: 3, login: {user: ci, password: \"%(secret:smtp)s\"}");
  e.start(yaml);
  e.force("force", 1);
  ASSERT_EQ(e.mails(1).size(), 1u) << e.master.log();

  writeFile(e.tmp.sub("master/smtp_password"), "wrong-password\n");
  ASSERT_EQ(e.master.reconfig().rc, 0) << e.master.log();
  e.force("force", 2);
  ASSERT_TRUE(e.master.waitForLog("mail for b1 #2 not delivered", 30s)) << e.master.log();
  EXPECT_EQ(e.smtp.messages().size(), 1u);

  writeFile(e.tmp.sub("master/smtp_password"), "right-password\n");
  ASSERT_EQ(e.master.reconfig().rc, 0) << e.master.log();
  const auto mails = e.mails(2);
  ASSERT_EQ(mails.size(), 2u) << e.master.log();
  EXPECT_EQ(mails[1]["subject"], "[mt] b1 #2: success");
  EXPECT_EQ(e.master.log().find("right-password"), std::string::npos) << "the password is never logged";
  EXPECT_EQ(e.master.log().find("wrong-password"), std::string::npos) << "the password is never logged";
  EXPECT_TRUE(e.master.running());
}

// STARTTLS against a server that requires it (a self-signed certificate,
// so tls_verify: false).
TEST(Mail, SendsOverStarttls) {
  MailEnv e;
  const CmdResult cert = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                              e.tmp.sub("smtp.key"), "-out", e.tmp.sub("smtp.crt"), "-days", "1", "-subj",
                              "/CN=127.0.0.1"});
  ASSERT_EQ(cert.rc, 0) << cert.describe();
  e.smtp.requireStarttls(e.tmp.sub("smtp.crt"), e.tmp.sub("smtp.key"));
  std::string yaml = head(std::to_string(e.master.port()), e.v) +
      "builders: [{name: b1, slaves: [s1], steps: [{shell: {name: hello, command: \"echo hello\"}}]}]\n"
      "schedulers: [{name: force, type: force, builders: [b1]}]\n"
      "reporters:\n" +
      mailReporter("m", e.smtp.port(), "to: [dev@example.org], starttls: true, tls_verify: false, timeout: 5");
  e.start(yaml);
  e.force("force", 1);
  const auto mails = e.mails(1);
  ASSERT_EQ(mails.size(), 1u) << e.master.log();
  EXPECT_EQ(mails[0]["tls"], true);
  EXPECT_EQ(mails[0]["subject"], "[mt] b1 #1: success");
}

}  // namespace
}  // namespace bb::test
