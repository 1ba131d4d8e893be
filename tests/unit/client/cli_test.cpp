// The CLI verbs against a fake master: what they send, what they print and
// which exit code they return.
#include "client/cli.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <map>
#include <sstream>

#include "client/client_error.hpp"
#include "client/force_command.hpp"
#include "client/sendchange_command.hpp"
#include "client/status_command.hpp"

namespace bb::client {
namespace {

struct Call {
  std::string method;
  Json params;
};

const std::string kPin = "SHA256:" + std::string(64, 'a');

// Scripted answers, one per call, in order; records every call.
struct CliFakeMaster {
  std::vector<Call> calls;
  std::deque<std::function<Json(const Call&)>> answers;
  std::optional<MasterAddress> address;
  std::optional<Credentials> credentials;
  std::optional<MasterTrust> trust;
  std::optional<std::string> connectFailure;
  std::deque<Json> events;  // Events frames to push, in order
};

class FakeSender : public RequestSender {
 public:
  explicit FakeSender(CliFakeMaster& m) : m_(m) {}
  Json call(const std::string& method, const Json& params) override {
    m_.calls.push_back({method, params});
    if (m_.answers.empty()) throw ConnectError("fake master: no answer scripted for " + method);
    auto fn = std::move(m_.answers.front());
    m_.answers.pop_front();
    return fn(m_.calls.back());
  }
  std::optional<Json> nextEvents(std::chrono::milliseconds) override {
    if (m_.events.empty()) throw ConnectError("fake master: no more events scripted");
    Json e = std::move(m_.events.front());
    m_.events.pop_front();
    return e;
  }

 private:
  CliFakeMaster& m_;
};

class CliTest : public ::testing::Test {
 protected:
  CliTest() {
    ctx_.getenv = [this](const char* n) -> std::optional<std::string> {
      auto it = env_.find(n);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    ctx_.in = &in_;
    ctx_.out = &out_;
    ctx_.err = &err_;
    ctx_.optionsPath = "/nonexistent/bb-client-test/options";
    ctx_.pollInterval = std::chrono::milliseconds(0);
    ctx_.connect = [this](const MasterAddress& a, const Credentials& c, const MasterTrust& t) {
      master_.address = a;
      master_.trust = t;
      master_.credentials = c;
      if (master_.connectFailure) throw ConnectError(*master_.connectFailure);
      return std::unique_ptr<RequestSender>(new FakeSender(master_));
    };
  }

  int run(std::vector<std::string> args) { return runCli(args, ctx_); }
  void answer(Json result) {
    master_.answers.push_back([result](const Call&) { return result; });
  }

  // A pinned master unless a test says otherwise (TLS needs one).
  std::map<std::string, std::string> env_{{"BUILDBOT_MASTER_FINGERPRINT", kPin}};
  std::istringstream in_;
  std::ostringstream out_, err_;
  CliContext ctx_;
  CliFakeMaster master_;
};

const std::vector<std::string> kConn = {"--master", "127.0.0.1:9989", "--auth", "alice:pw"};
// The same credentials from the environment: no password on the command
// line, so no warning on stderr, for tests that check stderr exactly.
const std::vector<std::string> kConnEnv = {"--master", "127.0.0.1:9989"};

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

TEST_F(CliTest, NoVerbIsUsageError) {
  EXPECT_EQ(run({}), kExitUsage);
  EXPECT_NE(err_.str().find("no verb given"), std::string::npos);
  EXPECT_NE(err_.str().find("sendchange"), std::string::npos);
}

TEST_F(CliTest, UnknownVerbIsUsageError) {
  EXPECT_EQ(run({"frobnicate"}), kExitUsage);
  EXPECT_NE(err_.str().find("unknown verb 'frobnicate'"), std::string::npos);
}

TEST_F(CliTest, HelpForEveryVerbExitsZeroWithoutConnecting) {
  for (const std::string verb :
       {"sendchange", "force", "status", "log", "cancel", "priority", "stop-build", "watch"}) {
    out_.str("");
    EXPECT_EQ(run({verb, "--help"}), kExitOk) << verb;
    EXPECT_NE(out_.str().find("Usage: buildbot " + verb), std::string::npos) << out_.str();
    EXPECT_NE(out_.str().find("--master"), std::string::npos);
    // Positional words are not an option a user could give.
    EXPECT_EQ(out_.str().find("--args"), std::string::npos) << verb << "\n" << out_.str();
  }
  EXPECT_TRUE(master_.calls.empty());
  EXPECT_FALSE(master_.address.has_value());
}

TEST_F(CliTest, VersionSaysWhichBuildbotThisIs) {
  EXPECT_EQ(run({"--version"}), kExitOk);
  EXPECT_EQ(out_.str().rfind("buildbot (buildbot-cpp) ", 0), 0u) << out_.str();
  EXPECT_TRUE(master_.calls.empty());
}

TEST_F(CliTest, PasswordOnTheCommandLineWorksButWarns) {
  answer(Json{{"builders", Json::array()}});
  EXPECT_EQ(run({"--master", "h:1", "--auth", "alice:pw", "status"}), kExitOk) << err_.str();
  EXPECT_EQ(master_.credentials->password, "pw");
  EXPECT_NE(err_.str().find("warning: a password given with --auth can be seen by other users"),
            std::string::npos)
      << err_.str();
}

TEST_F(CliTest, PasswordFromTheEnvironmentDoesNotWarn) {
  env_["BUILDBOT_AUTH"] = "alice:envpw";
  answer(Json{{"builders", Json::array()}});
  EXPECT_EQ(run({"--master", "h:1", "status"}), kExitOk) << err_.str();
  EXPECT_EQ(master_.credentials->password, "envpw");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CliTest, PasswordFromAnAuthFile) {
  char dir[] = "/tmp/bb-client-authfile-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string file = std::string(dir) + "/auth";
  {
    std::ofstream f(file);
    f << "carol:s3cr:et\n";
  }
  env_["BUILDBOT_AUTH"] = "alice:envpw";  // the file, given on the command line, wins
  answer(Json{{"builders", Json::array()}});
  EXPECT_EQ(run({"--master", "h:1", "status", "--auth-file", file}), kExitOk) << err_.str();
  EXPECT_EQ(master_.credentials->user, "carol");
  EXPECT_EQ(master_.credentials->password, "s3cr:et");
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(run({"--master", "h:1", "--auth-file", dir + std::string("/missing"), "status"}),
            kExitUsage);
  EXPECT_NE(err_.str().find("cannot read --auth-file"), std::string::npos) << err_.str();
  err_.str("");
  EXPECT_EQ(run({"--master", "h:1", "--auth", "x:y", "--auth-file", file, "status"}), kExitUsage);
  EXPECT_NE(err_.str().find("either --auth or --auth-file"), std::string::npos) << err_.str();
  std::remove(file.c_str());
  rmdir(dir);
}

TEST_F(CliTest, UserWithoutPasswordIsAskedForIt) {
  std::string asked;
  ctx_.readPassword = [&](const std::string& prompt) -> std::optional<std::string> {
    asked = prompt;
    return std::string("typed");
  };
  answer(Json{{"builders", Json::array()}});
  EXPECT_EQ(run({"--master", "h:1", "--auth", "dave", "status"}), kExitOk) << err_.str();
  EXPECT_EQ(asked, "password for dave at h:1: ");
  EXPECT_EQ(master_.credentials->user, "dave");
  EXPECT_EQ(master_.credentials->password, "typed");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CliTest, SendchangeSendsEveryField) {
  answer(Json{{"change_id", 12}});
  const int rc = run(with(kConn, {"sendchange", "-W", "bob", "-R", "/srv/repo", "-P", "proj", "-b",
                                  "main", "-r", "abc123", "-C", "cat", "-c", "fix it", "-s", "a:1",
                                  "--property", "b:x:y", "--when", "1700000000", "src/a.c",
                                  "README"}));
  ASSERT_EQ(rc, kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "change sent successfully (change 12)\n");
  ASSERT_EQ(master_.calls.size(), 1u);
  const Json& p = master_.calls[0].params;
  EXPECT_EQ(master_.calls[0].method, "sendchange");
  EXPECT_EQ(p["author"], "bob");
  EXPECT_EQ(p["repository"], "/srv/repo");
  EXPECT_EQ(p["project"], "proj");
  EXPECT_EQ(p["branch"], "main");
  EXPECT_EQ(p["revision"], "abc123");
  EXPECT_EQ(p["category"], "cat");
  EXPECT_EQ(p["comments"], "fix it");
  EXPECT_EQ(p["files"], (Json{"src/a.c", "README"}));
  EXPECT_EQ(p["properties"], (Json{{"a", "1"}, {"b", "x:y"}}));
  EXPECT_EQ(p["when"], 1700000000);
  EXPECT_EQ(master_.address->toString(), "127.0.0.1:9989");
  EXPECT_EQ(master_.credentials->user, "alice");
  EXPECT_EQ(master_.credentials->password, "pw");
}

TEST_F(CliTest, SendchangeAuthorDefaultsToUserAndLogfileStdin) {
  in_.str("message from stdin\n");
  answer(Json{{"change_id", 3}});
  ASSERT_EQ(run(with(kConn, {"sendchange", "--logfile", "-"})), kExitOk) << err_.str();
  EXPECT_EQ(master_.calls[0].params["author"], "alice");
  EXPECT_EQ(master_.calls[0].params["comments"], "message from stdin\n");
  EXPECT_EQ(master_.calls[0].params["files"], Json::array());
}

TEST_F(CliTest, SendchangeLogfileFromFile) {
  char dir[] = "/tmp/bb-client-cli-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/msg";
  {
    std::ofstream f(path);
    f << "line one\nline two\n";
  }
  answer(Json{{"change_id", 4}});
  EXPECT_EQ(run(with(kConn, {"sendchange", "-F", path})), kExitOk) << err_.str();
  EXPECT_EQ(master_.calls[0].params["comments"], "line one\nline two\n");
  std::remove(path.c_str());
  rmdir(dir);
}

TEST_F(CliTest, SendchangeUsageErrors) {
  EXPECT_EQ(run(with(kConn, {"sendchange", "-c", "x", "-F", "-"})), kExitUsage);
  EXPECT_NE(err_.str().find("either --comments or --logfile"), std::string::npos);
  EXPECT_EQ(run(with(kConn, {"sendchange", "--property", "noseparator"})), kExitUsage);
  EXPECT_NE(err_.str().find("expected NAME:VALUE"), std::string::npos);
  EXPECT_EQ(run(with(kConn, {"sendchange", "--when", "yesterday"})), kExitUsage);
  EXPECT_EQ(run(with(kConn, {"sendchange", "--bogus"})), kExitUsage);
  EXPECT_NE(err_.str().find("bogus"), std::string::npos);
  EXPECT_EQ(run(with(kConn, {"sendchange", "-F", "/nonexistent/file"})), kExitUsage);
  EXPECT_NE(err_.str().find("cannot read --logfile"), std::string::npos);
  EXPECT_TRUE(master_.calls.empty());
}

TEST_F(CliTest, MissingMasterOrAuthIsUsageError) {
  EXPECT_EQ(run({"status"}), kExitUsage);
  EXPECT_NE(err_.str().find("no master given"), std::string::npos) << err_.str();
  err_.str("");
  EXPECT_EQ(run({"status", "--master", "h:1"}), kExitUsage);
  EXPECT_NE(err_.str().find("no credentials given"), std::string::npos) << err_.str();
  err_.str("");
  EXPECT_EQ(run({"status", "--master", "h:1", "--auth", "nocolon"}), kExitUsage);
  EXPECT_NE(err_.str().find("USER:PASSWORD"), std::string::npos) << err_.str();
  EXPECT_FALSE(master_.address.has_value());
}

TEST_F(CliTest, PrecedenceFlagThenEnvThenFile) {
  char dir[] = "/tmp/bb-client-prec-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  ctx_.optionsPath = std::string(dir) + "/options";
  {
    std::ofstream f(ctx_.optionsPath);
    f << "master = file-host:1\nauth = fileuser:fp\n";
  }
  auto status = [&](std::vector<std::string> args) {
    answer(Json{{"builders", Json::array()}});
    EXPECT_EQ(run(args), kExitOk) << err_.str();
  };
  status({"status"});
  EXPECT_EQ(master_.address->toString(), "file-host:1");
  EXPECT_EQ(master_.credentials->user, "fileuser");

  env_["BUILDBOT_MASTER"] = "env-host:2";
  env_["BUILDBOT_AUTH"] = "envuser:ep";
  status({"status"});
  EXPECT_EQ(master_.address->toString(), "env-host:2");
  EXPECT_EQ(master_.credentials->user, "envuser");

  status({"--master", "global-host:3", "status", "--auth", "flaguser:x"});
  EXPECT_EQ(master_.address->toString(), "global-host:3");
  EXPECT_EQ(master_.credentials->user, "flaguser");

  // A verb's own flag wins over the global one.
  status({"--master", "global-host:3", "status", "-m", "verb-host:4"});
  EXPECT_EQ(master_.address->toString(), "verb-host:4");
  std::remove(ctx_.optionsPath.c_str());
  rmdir(dir);
}

TEST_F(CliTest, HomeOptionsFileIsDefault) {
  char dir[] = "/tmp/bb-client-home-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string home = dir;
  ASSERT_EQ(mkdir((home + "/.buildbot").c_str(), 0700), 0);
  {
    std::ofstream f(home + "/.buildbot/options");
    f << "master = home-host:5\nauth = homeuser:pw\n";
  }
  ctx_.optionsPath.clear();
  env_["HOME"] = home;
  answer(Json{{"builders", Json::array()}});
  EXPECT_EQ(run({"status"}), kExitOk) << err_.str();
  EXPECT_EQ(master_.address->toString(), "home-host:5");
  std::remove((home + "/.buildbot/options").c_str());
  rmdir((home + "/.buildbot").c_str());
  rmdir(dir);
}

TEST_F(CliTest, ConnectFailureExits3) {
  master_.connectFailure = "cannot connect to 127.0.0.1:9989: connection refused";
  EXPECT_EQ(run(with(kConn, {"status"})), kExitConnect);
  EXPECT_NE(err_.str().find("cannot connect to 127.0.0.1:9989: connection refused"),
            std::string::npos);
}

TEST_F(CliTest, MasterErrorExits1WithDetails) {
  master_.answers.push_back([](const Call&) -> Json {
    throw MasterError("bad_request", "unknown scheduler 'nope'",
                      {"known schedulers: all, force", "see master.yaml"});
  });
  EXPECT_EQ(run(with(kConn, {"force", "--scheduler", "nope"})), kExitMasterError);
  EXPECT_NE(err_.str().find("buildbot force: unknown scheduler 'nope'\n"), std::string::npos)
      << err_.str();
  EXPECT_EQ(err_.str().find("bad_request"), std::string::npos) << "no protocol code: " << err_.str();
  EXPECT_NE(err_.str().find("  known schedulers: all, force\n"), std::string::npos);
  EXPECT_NE(err_.str().find("  see master.yaml\n"), std::string::npos);
}

TEST_F(CliTest, CancelSendsEachIdAndReportsEachRefusal) {
  answer(Json{{"request_id", 4}, {"result", "cancelled"}});
  master_.answers.push_back([](const Call&) -> Json {
    throw MasterError("rejected", "request 5 has already started a build", {});
  });
  env_["BUILDBOT_AUTH"] = "alice:pw";
  EXPECT_EQ(run(with(kConnEnv, {"cancel", "4", "5"})), kExitMasterError) << err_.str();
  ASSERT_EQ(master_.calls.size(), 2u);
  EXPECT_EQ(master_.calls[0].method, "cancel");
  EXPECT_EQ(master_.calls[0].params["request_id"], 4);
  EXPECT_EQ(master_.calls[1].params["request_id"], 5);
  EXPECT_EQ(out_.str(), "request 4 cancelled\n");
  EXPECT_EQ(err_.str(), "buildbot cancel: request 5 has already started a build\n");
}

TEST_F(CliTest, JsonKeepsTheProtocolCodeOfARefusal) {
  master_.answers.push_back([](const Call&) -> Json {
    throw MasterError("not_found", "no force scheduler named 'nope'", {"force schedulers: f"});
  });
  EXPECT_EQ(run(with(kConn, {"force", "--scheduler", "nope", "--json"})), kExitMasterError);
  const Json j = Json::parse(out_.str());
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["error"]["message"], "no force scheduler named 'nope'");
  EXPECT_EQ(j["error"]["details"], Json::array({"force schedulers: f"}));
}

TEST_F(CliTest, CancelJsonListsEachAnswerWithCodes) {
  answer(Json{{"request_id", 4}, {"result", "cancelled"}});
  master_.answers.push_back([](const Call&) -> Json {
    throw MasterError("rejected", "request 5 has already started", {});
  });
  env_["BUILDBOT_AUTH"] = "alice:pw";
  EXPECT_EQ(run(with(kConnEnv, {"cancel", "4", "5", "--json"})), kExitMasterError);
  const Json j = Json::parse(out_.str());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["result"], "cancelled");
  EXPECT_EQ(j[1]["request_id"], 5);
  EXPECT_EQ(j[1]["error"]["code"], "rejected");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CliTest, CancelAndPriorityCheckArgumentsBeforeConnecting) {
  EXPECT_EQ(run(with(kConn, {"cancel"})), kExitUsage);
  EXPECT_EQ(run(with(kConn, {"cancel", "x1"})), kExitUsage);
  EXPECT_NE(err_.str().find("a request id must be a whole number"), std::string::npos) << err_.str();
  EXPECT_EQ(run(with(kConn, {"priority", "3"})), kExitUsage);
  EXPECT_EQ(run(with(kConn, {"priority", "3", "99999999"})), kExitUsage);
  EXPECT_NE(err_.str().find("from -1000000 to 1000000, got '99999999'"), std::string::npos)
      << err_.str();
  EXPECT_TRUE(master_.calls.empty());
}

TEST_F(CliTest, StopBuildSendsBuilderNumberAndReason) {
  EXPECT_EQ(run(with(kConn, {"stop-build", "linux"})), kExitUsage);
  EXPECT_EQ(run(with(kConn, {"stop-build", "linux", "0"})), kExitUsage);
  EXPECT_TRUE(master_.calls.empty());
  answer(Json{{"builder", "linux"}, {"number", 4}, {"stopping", true}});
  ASSERT_EQ(run(with(kConn, {"stop-build", "linux", "4", "--reason", "wrong branch"})), kExitOk)
      << err_.str();
  EXPECT_EQ(master_.calls[0].method, "stop_build");
  EXPECT_EQ(master_.calls[0].params,
            (Json{{"builder", "linux"}, {"number", 4}, {"reason", "wrong branch"}}));
  EXPECT_EQ(out_.str(), "build linux #4 is stopping\n");
}

TEST_F(CliTest, PrioritySendsIdAndPriority) {
  answer(Json{{"request_id", 3}, {"priority", -5}, {"previous", 0}, {"claimed", false}});
  ASSERT_EQ(run(with(kConn, {"priority", "3", "-5"})), kExitOk) << err_.str();
  EXPECT_EQ(master_.calls[0].method, "priority");
  EXPECT_EQ(master_.calls[0].params, (Json{{"request_id", 3}, {"priority", -5}}));
  EXPECT_EQ(out_.str(), "request 3: priority 0 -> -5\n");
}

TEST_F(CliTest, ForceRequiresScheduler) {
  EXPECT_EQ(run(with(kConn, {"force"})), kExitUsage);
  EXPECT_NE(err_.str().find("--scheduler NAME is required"), std::string::npos);
}

TEST_F(CliTest, ForceSendsParamsAndPrintsRequests) {
  answer(Json{{"buildset_id", 7}, {"requests", {{"b1", 12}, {"b2", 13}}}});
  ASSERT_EQ(run(with(kConn, {"force", "--scheduler", "force", "--builder", "b1", "--builder", "b2",
                             "--branch", "main", "--revision", "abc", "--reason", "why",
                             "--property", "p:v", "--priority", "7"})),
            kExitOk)
      << err_.str();
  const Json& p = master_.calls[0].params;
  EXPECT_EQ(master_.calls[0].method, "force");
  EXPECT_EQ(p["scheduler"], "force");
  EXPECT_EQ(p["builders"], (Json{"b1", "b2"}));
  EXPECT_EQ(p["branch"], "main");
  EXPECT_EQ(p["revision"], "abc");
  EXPECT_EQ(p["reason"], "why");
  EXPECT_EQ(p["owner"], "alice");
  EXPECT_EQ(p["properties"], (Json{{"p", "v"}}));
  EXPECT_EQ(p["priority"], 7);
  EXPECT_EQ(out_.str(), "buildset 7 submitted\n  b1: build request 12\n  b2: build request 13\n");
}

Json eventsFrame(std::int64_t sub, Json events) {
  return Json{{"subscription_id", sub}, {"events", std::move(events)}};
}

TEST_F(CliTest, ForceWaitFollowsTheBuildsetByEventsAndReportsFailure) {
  answer(Json{{"buildset_id", 7}, {"requests", {{"b1", 12}}}, {"event_seq", 40}});
  answer(Json{{"subscription_id", 3}, {"seq", 41}, {"replay_complete", true}});
  master_.events.push_back(eventsFrame(
      3, Json::array({Json{{"seq", 41}, {"type", "build.started"}, {"builder", "b1"}, {"slave", "s1"},
                           {"data", {{"number", 3}}}},
                      Json{{"seq", 42}, {"type", "step.finished"}, {"builder", "b1"},
                           {"data", {{"number", 3}, {"step", 1}, {"name", "make"}, {"result", "failure"},
                                     {"text", "exit code 2"}}}}})));
  master_.events.push_back(eventsFrame(9, Json::array({Json{{"type", "build.started"}}})));  // another subscription
  master_.events.push_back(eventsFrame(
      3, Json::array({Json{{"seq", 43}, {"type", "buildset.completed"}, {"buildset_id", 7},
                           {"data", {{"result", "failure"}}}}})));
  answer(Json{{"buildset",
               {{"id", 7},
                {"complete", true},
                {"result", "failure"},
                {"requests",
                 {{{"id", 12},
                   {"builder", "b1"},
                   {"complete", true},
                   {"result", "failure"},
                   {"builds", {{{"number", 3}, {"result", "failure"}}}}}}}}}});
  EXPECT_EQ(run(with(kConn, {"force", "--scheduler", "force", "--wait"})), kExitMasterError);
  ASSERT_EQ(master_.calls.size(), 3u);
  EXPECT_EQ(master_.calls[1].method, "subscribe");
  EXPECT_EQ(master_.calls[1].params, (Json{{"buildset_id", 7}, {"after_seq", 40}}));
  EXPECT_EQ(master_.calls[2].method, "buildset");
  EXPECT_TRUE(master_.events.empty());
  const std::string out = out_.str();
  EXPECT_NE(out.find("build.started     b1 #3 started on s1"), std::string::npos) << out;
  EXPECT_NE(out.find("b1 #3 step 1 make: failure (exit code 2)"), std::string::npos) << out;
  EXPECT_NE(out.find("  b1: failure (build #3)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("buildset 7 complete: failure\n"), std::string::npos) << out;
}

TEST_F(CliTest, ForceWaitSuccessExitsZero) {
  answer(Json{{"buildset_id", 8}, {"requests", {{"b1", 20}}}, {"event_seq", 0}});
  answer(Json{{"subscription_id", 1}});
  master_.events.push_back(eventsFrame(1, Json::array({Json{{"type", "buildset.completed"}}})));
  answer(Json{{"buildset",
               {{"id", 8},
                {"complete", true},
                {"result", "warnings"},
                {"requests", {{{"builder", "b1"}, {"complete", true}, {"result", "warnings"}}}}}}});
  EXPECT_EQ(run(with(kConn, {"force", "--scheduler", "force", "--wait"})), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("  b1: warnings\n"), std::string::npos) << out_.str();
}

TEST_F(CliTest, ForceWaitInterruptedSaysTheBuildsKeepRunning) {
  answer(Json{{"buildset_id", 8}, {"requests", {{"b1", 20}}}, {"event_seq", 0}});
  answer(Json{{"subscription_id", 1}});
  ctx_.interrupted = [] { return true; };
  EXPECT_EQ(run(with(kConn, {"force", "--scheduler", "force", "--wait"})), kExitMasterError);
  EXPECT_NE(out_.str().find("buildset 8 and its builds keep running"), std::string::npos) << out_.str();
}

TEST_F(CliTest, ASubscriptionTheMasterDropsEndsWithItsReason) {
  answer(Json{{"subscription_id", 2}});
  master_.events.push_back(Json{{"subscription_id", 2}, {"events", Json::array()},
                                {"dropped", "10000 events waiting for it"}});
  EXPECT_EQ(run(with(kConn, {"watch", "--builder", "b1"})), kExitMasterError);
  EXPECT_EQ(master_.calls[0].params, (Json{{"builder", "b1"}, {"compression", "zstd"}}));
  EXPECT_NE(err_.str().find("10000 events waiting for it"), std::string::npos) << err_.str();
}

TEST_F(CliTest, WatchPrintsOneLinePerEventOrJson) {
  answer(Json{{"subscription_id", 5}});
  master_.events.push_back(eventsFrame(
      5, Json::array({Json{{"seq", 1}, {"type", "change.added"}, {"change_id", 4},
                           {"data", {{"branch", "main"}, {"revision", "abcdef0123456789"},
                                     {"author", "bob"}, {"source", "sendchange"}}}}})));
  int polls = 0;
  ctx_.interrupted = [&] { return ++polls > 1; };
  EXPECT_EQ(run(with(kConn, {"watch", "--change", "4", "--topic", "change", "--topic", "build"})), kExitOk);
  // It takes compressed frames (MasterClient expands them).
  EXPECT_EQ(master_.calls[0].params,
            (Json{{"change_id", 4}, {"compression", "zstd"}, {"topics", {"change", "build"}}}));
  EXPECT_NE(out_.str().find("change.added      change 4 on main abcdef012345 by bob (sendchange)\n"),
            std::string::npos) << out_.str();

  answer(Json{{"subscription_id", 6}});
  const Json ev{{"seq", 2}, {"type", "build.started"}, {"builder", "b"}};
  master_.events.push_back(eventsFrame(6, Json::array({ev})));
  polls = 0;
  out_.str("");
  EXPECT_EQ(run(with(kConn, {"watch", "--json"})), kExitOk);
  EXPECT_EQ(Json::parse(out_.str()), ev);
}

TEST_F(CliTest, StatusPrintsTable) {
  answer(Json{{"builders",
               {{{"name", "b1"},
                 {"builds",
                  {{{"id", 1},
                    {"number", 2},
                    {"result", "success"},
                    {"finished", true},
                    {"slave", "s1"},
                    {"started_at", 1700000000},
                    {"finished_at", 1700000065}},
                   {{"id", 2},
                    {"number", 3},
                    {"result", nullptr},
                    {"finished", false},
                    {"slave", "s1"},
                    {"started_at", 1700000100},
                    {"finished_at", nullptr}}}}},
                {{"name", "idle"}, {"builds", Json::array()}}}}});
  ASSERT_EQ(run(with(kConn, {"status", "--builder", "b1", "--limit", "5"})), kExitOk) << err_.str();
  EXPECT_EQ(master_.calls[0].method, "status");
  EXPECT_EQ(master_.calls[0].params, (Json{{"builder", "b1"}, {"limit", 5}}));
  const std::string out = out_.str();
  EXPECT_EQ(out.rfind("BUILDER", 0), 0u) << out;
  EXPECT_NE(out.find("#2"), std::string::npos);
  EXPECT_NE(out.find("success"), std::string::npos);
  EXPECT_NE(out.find("1m 05s"), std::string::npos) << out;
  EXPECT_NE(out.find("running"), std::string::npos);
  EXPECT_NE(out.find("no builds"), std::string::npos);
}

TEST_F(CliTest, StatusShowsElapsedTimeOfRunningBuildsAndWhyTheLastFailed) {
  answer(Json{{"now", 1700000200},
              {"builders",
               {{{"name", "b1"},
                 {"builds",
                  {{{"number", 4},
                    {"result", "running"},
                    {"finished", false},
                    {"slave", "s1"},
                    {"started_at", 1700000075},
                    {"finished_at", 0}}}}},
                {{"name", "b2"},
                 {"builds",
                  {{{"number", 9},
                    {"result", "failure"},
                    {"finished", true},
                    {"slave", "s1"},
                    {"started_at", 1700000000},
                    {"finished_at", 1700000010},
                    {"failure",
                     {{"step", 2},
                      {"name", "test"},
                      {"result", "failure"},
                      {"text", "exit code 1"},
                      {"log", "stdio"},
                      {"log_tail", "FAIL: t_parse\n1 of 20 tests failed\n"}}}}}}}}}});
  ASSERT_EQ(run(with(kConn, {"status"})), kExitOk) << err_.str();
  const std::string out = out_.str();
  EXPECT_NE(out.find("running 2m 05s"), std::string::npos) << out;
  EXPECT_NE(out.find("b2 #9 failed in step 2 'test': exit code 1\n"
                     "  last lines of its stdio log:\n"
                     "    FAIL: t_parse\n"
                     "    1 of 20 tests failed\n"),
            std::string::npos)
      << out;
}

TEST_F(CliTest, StatusSaysHowManyPendingRequestsItDidNotList) {
  answer(Json{{"builders",
               {{{"name", "b1"},
                 {"builds", Json::array()},
                 {"pending", {{{"id", 7}, {"priority", 0}, {"submitted_at", 0}}}},
                 {"pending_count", 120}}}}});
  ASSERT_EQ(run(with(kConn, {"status"})), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("Pending requests:"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("  ... and 119 more pending for b1\n"), std::string::npos) << out_.str();
}

TEST_F(CliTest, StatusJsonPrintsRawResult) {
  const Json result{{"builders", {{{"name", "b1"}, {"builds", Json::array()}}}}};
  answer(result);
  ASSERT_EQ(run(with(kConn, {"status", "--json"})), kExitOk);
  EXPECT_EQ(Json::parse(out_.str()), result);
}

TEST_F(CliTest, StatusBuildWithLogs) {
  answer(Json{{"build",
               {{"number", 3},
                {"result", "failure"},
                {"finished", true},
                {"slave", "s1"},
                {"started_at", 100},
                {"finished_at", 110},
                {"steps",
                 {{{"number", 1},
                   {"name", "compile"},
                   {"result", "failure"},
                   {"finished", true},
                   {"text", "exit 2"},
                   {"started_at", 100},
                   {"finished_at", 109},
                   {"logs", {{{"id", 41}, {"name", "stdio"}, {"bytes", 9}}}}}}}}}});
  const std::string logText = "error: x";
  answer(Json{{"log_id", 41},
              {"data", Json::binary(std::vector<std::uint8_t>(logText.begin(), logText.end()))},
              {"more", true}});
  ASSERT_EQ(run(with(kConn, {"status", "--builder", "b1", "--build", "3", "--logs"})), kExitOk)
      << err_.str();
  ASSERT_EQ(master_.calls.size(), 2u);
  EXPECT_EQ(master_.calls[0].params, (Json{{"builder", "b1"}, {"number", 3}}));
  EXPECT_EQ(master_.calls[1].method, "log");
  EXPECT_EQ(master_.calls[1].params, (Json{{"log_id", 41}}));
  const std::string out = out_.str();
  EXPECT_EQ(out.rfind("b1 #3: failure on slave s1", 0), 0u) << out;
  EXPECT_NE(out.find("compile"), std::string::npos);
  EXPECT_NE(out.find("exit 2"), std::string::npos);
  EXPECT_NE(out.find("----- step 1 compile, log stdio -----\nerror: x\n"), std::string::npos) << out;
  EXPECT_NE(out.find("[log truncated"), std::string::npos);
}

Json buildWithTwoSteps(bool finished) {
  return Json{{"build",
               {{"number", 3},
                {"finished", finished},
                {"steps",
                 {{{"number", 1}, {"name", "git"}, {"logs", {{{"id", 41}, {"name", "stdio"}}}}},
                  {{"number", 2}, {"name", "test"}, {"logs", {{{"id", 42}, {"name", "stdio"}}}}}}}}}};
}

Json page(const std::string& text, std::int64_t offset, bool more, bool finished) {
  return Json{{"data", Json::binary(std::vector<std::uint8_t>(text.begin(), text.end()))},
              {"offset", offset},
              {"next_offset", offset + static_cast<std::int64_t>(text.size())},
              {"more", more},
              {"finished", finished}};
}

TEST_F(CliTest, LogPrintsEveryStepsLogPageByPage) {
  answer(buildWithTwoSteps(true));
  answer(page("cloned\n", 0, false, true));
  answer(page("part one, ", 0, true, true));  // a log bigger than a page
  answer(page("part two\n", 10, false, true));
  ASSERT_EQ(run(with(kConn, {"log", "b1", "3"})), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "----- step 1 git, log stdio -----\ncloned\n"
            "\n----- step 2 test, log stdio -----\npart one, part two\n");
  ASSERT_EQ(master_.calls.size(), 4u);
  EXPECT_EQ(master_.calls[0].params, (Json{{"builder", "b1"}, {"number", 3}}));
  EXPECT_EQ(master_.calls[2].params, (Json{{"log_id", 42}, {"offset", 0}}));
  EXPECT_EQ(master_.calls[3].params, (Json{{"log_id", 42}, {"offset", 10}}));
}

TEST_F(CliTest, LogOfOneStepIsPrintedRawByNameOrNumber) {
  answer(buildWithTwoSteps(true));
  answer(page("FAIL: t1\n", 0, false, true));
  ASSERT_EQ(run(with(kConn, {"log", "b1", "3", "test"})), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "FAIL: t1\n");
  out_.str("");
  answer(buildWithTwoSteps(true));
  answer(page("cloned\n", 0, false, true));
  ASSERT_EQ(run(with(kConn, {"log", "b1", "3", "1"})), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "cloned\n");
}

TEST_F(CliTest, LogFollowsARunningBuildUntilItHasFinished) {
  answer(buildWithTwoSteps(false));
  answer(page("cloned\n", 0, false, true));
  answer(page("running 1\n", 0, false, false));  // step 2 still writing
  answer(buildWithTwoSteps(false));
  answer(page("running 2\n", 10, false, true));  // ... and now done
  answer(buildWithTwoSteps(true));
  ASSERT_EQ(run(with(kConn, {"log", "b1", "3", "--follow"})), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "----- step 1 git, log stdio -----\ncloned\n"
            "\n----- step 2 test, log stdio -----\nrunning 1\nrunning 2\n");
  EXPECT_EQ(master_.calls[4].params, (Json{{"log_id", 42}, {"offset", 10}}));
  EXPECT_EQ(master_.calls.size(), 6u);
}

TEST_F(CliTest, LogFollowStopsOnCtrlCAndLeavesTheBuildRunning) {
  ctx_.interrupted = [] { return true; };
  answer(buildWithTwoSteps(false));
  answer(page("cloned\n", 0, false, true));
  answer(page("running 1\n", 0, false, false));
  ASSERT_EQ(run(with(kConn, {"log", "b1", "3", "--follow"})), kExitOk) << err_.str();
  EXPECT_EQ(master_.calls.size(), 3u);
  EXPECT_NE(err_.str().find("stopped following b1 #3; the build goes on"), std::string::npos)
      << err_.str();
}

TEST_F(CliTest, LogWithoutFollowSaysARunningLogIsNotWhole) {
  answer(buildWithTwoSteps(false));
  answer(page("running 1\n", 0, false, false));
  ASSERT_EQ(run(with(kConn, {"log", "b1", "3", "2"})), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "running 1\n");
  EXPECT_NE(err_.str().find("step 2 test, log stdio of running build b1 #3 is still being written; "
                            "--follow keeps reading it"),
            std::string::npos)
      << err_.str();
}

TEST_F(CliTest, LogOfAStepThatIsNotThereListsTheSteps) {
  answer(buildWithTwoSteps(true));
  EXPECT_EQ(run(with(kConn, {"log", "b1", "3", "deploy"})), kExitMasterError);
  EXPECT_NE(err_.str().find("build b1 #3 has no step 'deploy'; its steps: 1 git, 2 test"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(run(with(kConn, {"log", "b1"})), kExitUsage);
  EXPECT_EQ(run(with(kConn, {"log", "b1", "x"})), kExitUsage);
}

TEST_F(CliTest, StatusUsageErrors) {
  EXPECT_EQ(run(with(kConn, {"status", "--build", "3"})), kExitUsage);
  EXPECT_NE(err_.str().find("--build needs --builder"), std::string::npos);
  EXPECT_EQ(run(with(kConn, {"status", "--builder", "b", "--logs"})), kExitUsage);
  EXPECT_EQ(run(with(kConn, {"status", "--limit", "0"})), kExitUsage);
  EXPECT_EQ(run(with(kConn, {"status", "--limit", "many"})), kExitUsage);
  EXPECT_EQ(run(with(kConn, {"status", "extra"})), kExitUsage);
  EXPECT_TRUE(master_.calls.empty());
}

TEST_F(CliTest, GlobalOptionErrors) {
  EXPECT_EQ(run({"--master"}), kExitUsage);
  EXPECT_NE(err_.str().find("--master needs a value"), std::string::npos);
  EXPECT_EQ(run({"--frob", "status"}), kExitUsage);
  EXPECT_EQ(run({"--help"}), kExitOk);
  EXPECT_NE(out_.str().find("Usage: buildbot"), std::string::npos);
}

// ---- how the master is trusted ----

TEST_F(CliTest, TrustComesFromFlagOverEnvironmentAndIsNormalized) {
  answer(Json::object());
  const std::string upper = "SHA256:" + std::string(32, 'B') + ":" + std::string(32, 'C');
  EXPECT_EQ(run({"--master", "h:1", "--auth", "u:p", "--master-fingerprint", upper, "status"}), 0)
      << err_.str();
  ASSERT_TRUE(master_.trust);
  EXPECT_TRUE(master_.trust->tls);
  EXPECT_EQ(master_.trust->fingerprint, "SHA256:" + std::string(32, 'b') + std::string(32, 'c'));
}

TEST_F(CliTest, NoTrustGivenIsAUsageErrorSayingWhatToGive) {
  env_.erase("BUILDBOT_MASTER_FINGERPRINT");
  EXPECT_EQ(run({"--master", "h:1", "--auth", "u:p", "status"}), 2);
  EXPECT_NE(err_.str().find("--master-fingerprint"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("--plaintext"), std::string::npos) << err_.str();
  EXPECT_FALSE(master_.address) << "no connection without a way to trust the master";
}

TEST_F(CliTest, PlaintextOnlyWhenAskedAndNotWithAPin) {
  env_.erase("BUILDBOT_MASTER_FINGERPRINT");
  answer(Json::object());
  EXPECT_EQ(run({"--master", "h:1", "--auth", "u:p", "--plaintext", "status"}), 0) << err_.str();
  ASSERT_TRUE(master_.trust);
  EXPECT_FALSE(master_.trust->tls);
  EXPECT_EQ(run({"--master", "h:1", "--auth", "u:p", "--plaintext", "--master-fingerprint", kPin,
                 "status"}),
            2);
  EXPECT_NE(err_.str().find("--plaintext cannot go with"), std::string::npos) << err_.str();
}

TEST_F(CliTest, BadFingerprintIsAUsageErrorNamingWhereItCameFrom) {
  env_["BUILDBOT_MASTER_FINGERPRINT"] = "SHA256:abc";
  EXPECT_EQ(run({"--master", "h:1", "--auth", "u:p", "status"}), 2);
  EXPECT_NE(err_.str().find("bad master fingerprint 'SHA256:abc'"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("environment"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace bb::client

