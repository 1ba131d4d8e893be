// Events pushed to clients, with real processes: `buildbot force --wait`
// follows its build by subscription, `buildbot watch` prints a builder's
// events as they happen, and a running build's output can be read (status
// --logs, log.lines events) while the build still runs; a client watching
// everything gets its events whole, in order, in frames paced as
// docs/protocol.md says.
#include <signal.h>

#include <set>

#include <gtest/gtest.h>

#include "common/events_zstd.hpp"
#include "common/message.hpp"
#include "tests/functional/harness.hpp"
#include "tests/functional/raw_peer.hpp"

namespace bb::test {
namespace {

std::string oneSlaveYaml(int port, const std::string& command) {
  return "master: {name: func, slave_port: " + std::to_string(port) +
         ", database: \"sqlite:state.sqlite\"}\n"
         "slaves:\n"
         "  - {name: s1, password: \"" + verifier("pw1") + "\"}\n"
         "users:\n"
         "  - {name: alice, password: \"" + verifier("alice-pw") + "\", may: [sendchange, force, status]}\n"
         "builders:\n"
         "  - name: b1\n"
         "    slaves: [s1]\n"
         "    steps:\n"
         "      - shell: {name: work, command: \"" + command + "\"}\n"
         "schedulers:\n"
         "  - {name: force, type: force, builders: [b1]}\n";
}

struct EventsEnv {
  TempDir tmp;
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw1"};

  void up(const std::string& command) {
    master.create();
    master.writeConfig(oneSlaveYaml(master.port(), command));
    master.setAuth("alice", "alice-pw");
    master.start();
    slave.create();
    slave.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  }
  bool buildFinished(int number) {
    auto rows = sqlite(master.dbPath(), "SELECT finished FROM builds WHERE builder='b1' AND number=" +
                                            std::to_string(number));
    return !rows.empty() && rows[0][0] == "1";
  }
};

TEST(Events, ForceWaitFollowsItsBuildAndReportsTheResult) {
  EventsEnv e;
  e.up("echo one; sleep 1; echo two");
  const CmdResult r = e.master.client({"force", "--scheduler", "force", "--wait"});
  ASSERT_EQ(r.rc, 0) << r.describe() << e.master.log();
  // Progress as it happened, pushed by the master, then the summary.
  const auto started = r.out.find("build.started");
  const auto step = r.out.find("step.finished");
  const auto done = r.out.find("buildset 1 complete: success");
  ASSERT_NE(started, std::string::npos) << r.out;
  ASSERT_NE(step, std::string::npos) << r.out;
  ASSERT_NE(done, std::string::npos) << r.out;
  EXPECT_LT(started, step);
  EXPECT_LT(step, done);
  EXPECT_NE(r.out.find("b1 #1 step 1 work: success (exit code 0)"), std::string::npos) << r.out;
  EXPECT_NE(e.master.log().find("subscribed to events (buildset 1)"), std::string::npos);
}

TEST(Events, WatchShowsABuildersEventsLiveAndOutputIsReadableWhileTheBuildRuns) {
  EventsEnv e;
  // The output's markers are computed by the shell, so the command line
  // (which the log's header shows) does not contain them.
  e.up("echo early-$((20+1)); sleep 8; echo late-$((40+2))");
  ChildProcess watch;
  const std::string watchOut = e.tmp.sub("watch.out");
  // The password in the environment: on the command line it would add a
  // warning to the output.
  watch.start({BB_BIN_CLIENT, "--master-fingerprint", e.master.fingerprint(), "--master",
               "127.0.0.1:" + std::to_string(e.master.port()), "watch",
               "--builder", "b1", "--json"},
              watchOut, "", {{"BUILDBOT_AUTH", "alice:alice-pw"}});
  // The subscription is in place before the build is forced.
  ASSERT_TRUE(e.master.waitForLog("subscribed to events (builder b1)")) << e.master.log();
  ASSERT_EQ(e.master.client({"force", "--scheduler", "force"}).rc, 0);

  // The first line of output is stored and announced while the step still
  // sleeps: log.lines events reach the watcher, and status --logs shows it.
  ASSERT_TRUE(waitFor([&] { return readFile(watchOut).find("\"log.lines\"") != std::string::npos; }, 30s))
      << readFile(watchOut);
  CmdResult st;
  ASSERT_TRUE(waitFor(
      [&] {
        st = e.master.client({"status", "--builder", "b1", "--build", "1", "--logs"});
        return st.out.find("early-21") != std::string::npos;
      },
      6s))
      << st.describe();
  EXPECT_EQ(st.out.find("late-42"), std::string::npos) << "the build should still be sleeping:\n" << st.out;
  EXPECT_FALSE(e.buildFinished(1));

  ASSERT_TRUE(waitFor([&] { return readFile(watchOut).find("\"build.finished\"") != std::string::npos; }, 60s))
      << readFile(watchOut);
  ::kill(watch.pid(), SIGINT);
  ASSERT_TRUE(waitFor([&] { return !watch.running(); }, 10s));
  EXPECT_EQ(watch.exitStatus().value_or(-1), 0);

  // One JSON object a line, every one about b1, in publish order.
  std::vector<std::string> types;
  std::uint64_t lastSeq = 0;
  const std::string out = readFile(watchOut);
  std::size_t pos = 0;
  while (pos < out.size()) {
    const auto nl = out.find('\n', pos);
    const std::string line = out.substr(pos, nl - pos);
    pos = nl == std::string::npos ? out.size() : nl + 1;
    if (line.empty()) continue;
    const Json ev = Json::parse(line);
    EXPECT_EQ(ev.value("builder", ""), "b1") << line;
    EXPECT_GT(ev["seq"].get<std::uint64_t>(), lastSeq);
    lastSeq = ev["seq"].get<std::uint64_t>();
    types.push_back(ev["type"].get<std::string>());
  }
  const auto at = [&](const std::string& t) {
    return std::find(types.begin(), types.end(), t) - types.begin();
  };
  for (const char* t : {"request.created", "request.claimed", "build.started", "step.started",
                        "log.lines", "step.finished", "request.completed", "build.finished"})
    EXPECT_LT(at(t), static_cast<long>(types.size())) << "no " << t << " in\n" << out;
  EXPECT_LT(at("build.started"), at("step.started"));
  EXPECT_LT(at("step.started"), at("log.lines"));
  EXPECT_LT(at("log.lines"), at("step.finished"));
}

// A master whose builders each run `true` on slave s1 for every change on
// main, and that slave, connected.
struct NoopEnv {
  TempDir tmp;
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw1"};

  void up(const std::vector<std::string>& builders) {
    std::string yaml = "master: {name: func, slave_port: " + std::to_string(master.port()) +
                       "}\nslaves: [{name: s1, password: \"" + verifier("pw1") + "\"}]\n"
                       "users: [{name: alice, password: \"" + verifier("alice-pw") +
                       "\", may: [sendchange, status]}]\nbuilders:\n";
    std::string names;
    for (const auto& b : builders) {
      yaml += "  - {name: " + b + ", slaves: [s1], steps: [{shell: {name: noop, command: [\"true\"]}}]}\n";
      names += (names.empty() ? "" : ", ") + b;
    }
    yaml += "schedulers: [{name: all, type: single_branch, branch: main, builders: [" + names + "]}]\n";
    master.create();
    master.writeConfig(yaml);
    master.start();
    slave.create();
    slave.start();
    ASSERT_TRUE(master.waitForLog("slave s1 connected")) << master.log();
  }
};

// A client subscribed to everything while 30 builds run one after another
// gets every event once, in order, batched into frames: up to 20 at once,
// then at most 10 a second (docs/protocol.md, "Events"): a watcher costs
// the master per frame, not per event.
TEST(Events, AClientWatchingEverythingGetsEveryEventInOrderInPacedFrames) {
  NoopEnv env;
  ASSERT_NO_FATAL_FAILURE(env.up({"b1"}));
  MasterProcess& master = env.master;

  RawPeer peer(master.port());
  peer.login("client", "alice", "alice-pw");
  peer.send(MsgType::Request, Json{{"id", 1}, {"method", "subscribe"}, {"params", Json::object()}});
  auto subscribed = peer.waitFor(MsgType::Response);
  ASSERT_TRUE(subscribed) << master.log();
  const std::uint64_t firstSeq = subscribed->body.at("result").at("seq").get<std::uint64_t>() + 1;
  constexpr int kBuilds = 30;
  for (int i = 0; i < kBuilds; ++i)
    peer.send(MsgType::Request, Json{{"id", 2 + i}, {"method", "sendchange"},
                                     {"params", Json{{"author", "a"}, {"branch", "main"},
                                                     {"revision", "r" + std::to_string(i)}}}});
  std::vector<std::uint64_t> seqs;
  std::vector<std::chrono::steady_clock::time_point> frames;
  int finished = 0, answered = 0;
  while (finished < kBuilds || answered < kBuilds) {
    auto m = peer.next(std::chrono::seconds(60));
    ASSERT_TRUE(m) << "after " << finished << " builds finished\n" << master.log();
    if (m->type == MsgType::Response) {
      EXPECT_TRUE(m->body.contains("result")) << m->body.dump();
      ++answered;
      continue;
    }
    ASSERT_EQ(m->type, MsgType::Events) << m->body.dump();
    EXPECT_FALSE(m->body.contains("dropped")) << m->body.dump();
    frames.push_back(std::chrono::steady_clock::now());
    for (const auto& e : m->body.at("events")) {
      seqs.push_back(e.at("seq").get<std::uint64_t>());
      if (e.at("type") == "build.finished") ++finished;
    }
  }
  // Every event once, in order, none missing.
  ASSERT_FALSE(seqs.empty());
  for (std::size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], firstSeq + i) << "at event " << i;
  EXPECT_GE(seqs.size(), static_cast<std::size_t>(kBuilds) * 8);  // change, buildset, request, build, step...
  // Batched: fewer frames than events, and never more than the token
  // bucket allows over the time they took (20 at once, then 10 a second;
  // one more for rounding at each end).
  EXPECT_LT(frames.size(), seqs.size() / 2) << frames.size() << " frames for " << seqs.size() << " events";
  const double secs = std::chrono::duration<double>(frames.back() - frames.front()).count();
  EXPECT_LE(static_cast<double>(frames.size()), 20 + 10 * secs + 2)
      << frames.size() << " frames in " << secs << " s";
}

// Several clients watching everything share their frames (one encoding of
// the events for all of them, master/port/event_fanout.hpp); one replaying
// from after_seq has a subscription of its own, and one watching builder
// b2 a group of its own. Each gets exactly its events, once, in order,
// under its own id.
TEST(Events, ClientsSharingFramesEachGetTheirEventsUnderTheirOwnSubscription) {
  NoopEnv env;
  ASSERT_NO_FATAL_FAILURE(env.up({"b1", "b2"}));
  MasterProcess& master = env.master;

  struct Watcher {
    std::unique_ptr<RawPeer> peer;
    std::uint64_t id = 0, firstSeq = 0;
    std::vector<std::uint64_t> seqs;
    int finished = 0;
    int compressed = 0;  // frames that came with events_zstd
  };
  // Three watch everything (shared; the third, as `buildbot watch` does,
  // takes compressed frames), one replays from seq 0 (its own), one
  // watches b2 (shared with nobody else).
  const std::vector<Json> params{Json::object(), Json::object(), Json{{"compression", "zstd"}},
                                 Json{{"after_seq", 0}}, Json{{"builder", "b2"}}};
  std::vector<Watcher> watchers(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    watchers[i].peer = std::make_unique<RawPeer>(master.port());
    watchers[i].peer->login("client", "alice", "alice-pw");
    watchers[i].peer->send(MsgType::Request, Json{{"id", 1}, {"method", "subscribe"}, {"params", params[i]}});
    auto r = watchers[i].peer->waitFor(MsgType::Response);
    ASSERT_TRUE(r && r->body.contains("result")) << master.log();
    watchers[i].id = r->body["result"]["subscription_id"].get<std::uint64_t>();
    watchers[i].firstSeq = params[i].contains("after_seq") ? 1 : r->body["result"]["seq"].get<std::uint64_t>() + 1;
  }
  ASSERT_TRUE(master.waitForLog("subscription " + std::to_string(watchers[4].id) + ", sharing frames"))
      << master.log();
  const std::string log = master.log();
  int sharing = 0;
  for (auto at = log.find("sharing frames"); at != std::string::npos; at = log.find("sharing frames", at + 1)) ++sharing;
  EXPECT_EQ(sharing, 4) << log;  // not the one replaying from after_seq

  constexpr int kChanges = 10;
  RawPeer sender(master.port());
  sender.login("client", "alice", "alice-pw");
  for (int i = 0; i < kChanges; ++i) {
    sender.send(MsgType::Request, Json{{"id", 2 + i}, {"method", "sendchange"},
                                       {"params", Json{{"author", "a"}, {"branch", "main"},
                                                       {"revision", "r" + std::to_string(i)}}}});
    ASSERT_TRUE(sender.waitFor(MsgType::Response)) << master.log();
  }
  for (std::size_t i = 0; i < watchers.size(); ++i) {
    Watcher& w = watchers[i];
    const int builds = i == 4 ? kChanges : 2 * kChanges;
    while (w.finished < builds) {
      auto m = w.peer->waitFor(MsgType::Events, std::chrono::seconds(60));
      ASSERT_TRUE(m) << "watcher " << i << " after " << w.finished << " builds\n" << master.log();
      EXPECT_FALSE(m->body.contains("dropped")) << m->body.dump();
      ASSERT_EQ(m->body.at("subscription_id").get<std::uint64_t>(), w.id) << m->body.dump();
      if (m->body.contains("events_zstd")) ++w.compressed;
      const Json body = expandEvents(std::move(m->body));
      for (const auto& e : body.at("events")) {
        w.seqs.push_back(e.at("seq").get<std::uint64_t>());
        if (i == 4) {
          EXPECT_EQ(e.at("builder"), "b2") << e.dump();
        }
        if (e.at("type") == "build.finished") ++w.finished;
      }
    }
  }
  // Every event once and in order; the three sharing ones got the same.
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_FALSE(watchers[i].seqs.empty());
    EXPECT_EQ(watchers[i].seqs.front(), watchers[i].firstSeq) << "watcher " << i;
    for (std::size_t k = 1; k < watchers[i].seqs.size(); ++k)
      ASSERT_EQ(watchers[i].seqs[k], watchers[i].seqs[k - 1] + 1) << "watcher " << i << " at " << k;
  }
  EXPECT_EQ(watchers[1].seqs, watchers[0].seqs);
  EXPECT_EQ(watchers[2].seqs, watchers[0].seqs);
  EXPECT_GT(watchers[2].compressed, 0);  // the one that asked
  for (std::size_t i : {0u, 1u, 3u, 4u}) EXPECT_EQ(watchers[i].compressed, 0) << "watcher " << i;
  for (std::size_t k = 1; k < watchers[4].seqs.size(); ++k) ASSERT_LT(watchers[4].seqs[k - 1], watchers[4].seqs[k]);
  std::set<std::uint64_t> ids;
  for (const auto& w : watchers) ids.insert(w.id);
  EXPECT_EQ(ids.size(), watchers.size());

  // A compression the master does not speak is refused by name.
  sender.send(MsgType::Request,
              Json{{"id", 99}, {"method", "subscribe"}, {"params", Json{{"compression", "gzip"}}}});
  auto refused = sender.waitFor(MsgType::Response);
  ASSERT_TRUE(refused) << master.log();
  EXPECT_EQ(refused->body["error"]["code"], "bad_request") << refused->body.dump();
  EXPECT_NE(refused->body["error"]["message"].get<std::string>().find("compression must be \"zstd\""),
            std::string::npos)
      << refused->body.dump();
}

}  // namespace
}  // namespace bb::test
