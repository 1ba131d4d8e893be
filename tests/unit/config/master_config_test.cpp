// A valid master config loads with every field as written; the examples load.
#include "config/master_config.hpp"
#include "master/config_kinds.hpp"
#include "master/process/steps/git_step.hpp"
#include "master/process/steps/shell_step.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::kVerifier;

std::string validYaml() {
  return R"(master:
  name: ci1
  url: https://ci.example.org
  host: 0.0.0.0
  slave_port: 9000
  web_port: 9001
  database: sqlite:db/state.sqlite
  max_frame: 65536
  heartbeat_interval: 5
  heartbeat_timeout: 20
  ping_timeout: 7
slaves:
  - { name: s1, password: ")" + kVerifier + R"(", max_builds: 3, properties: { os: linux, n: 2, ok: true, q: "7" } }
  - { name: s2, password: ")" + kVerifier + R"(" }
users:
  - { name: alice, password: ")" + kVerifier + R"(", may: [sendchange, force] }
locks:
  - { name: db, scope: master, max_count: 1 }
  - { name: cpu, scope: slave, max_count: 2, max_count_for_slave: { s1: 4 } }
change_sources:
  - { name: app, type: git_poller, repo: ../app.git, branches: [main, dev], interval: 5, project: p, category: c }
schedulers:
  - name: quick
    type: single_branch
    branch: main
    tree_stable_timer: 3
    files: { include: ["src/**"], exclude: ["docs/**"] }
    only_important: true
    change_sources: [app]
    priority: -2
    properties: { a: b }
    builders: [b1]
  - { name: after, type: dependent, upstream: quick, builders: [b1] }
  - { name: tick, type: periodic, interval: 60, builders: [b1] }
  - { name: night, type: nightly, cron: "0 3 * * *", builders: [b1] }
builders:
  - name: b1
    slaves: [s1, s2]
    properties: { jobs: 4 }
    locks: [{ lock: cpu, access: counting }]
    collapse_requests: true
    steps:
      - git: { repo: /srv/app.git, mode: full, workdir: src, timeout: 30 }
      - shell:
          name: build
          command: "make -j%(prop:jobs)s"
          workdir: src/sub
          env: { CC: clang, N: 3 }
          timeout: 0
          max_silence: 60
          halt_on_failure: false
          flunk_on_failure: false
          warn_on_failure: true
          locks: [{ lock: db }]
      - shell: { command: [make, check] }
      - shell: { command: [echo, two] }
)";
}

TEST(MasterConfig, ValidConfigLoadsEveryField) {
  auto r = parseMasterConfig(validYaml(), "t.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const MasterConfig& c = *r.config;
  EXPECT_EQ(c.path, "t.yaml");
  EXPECT_EQ(c.master.name, "ci1");
  EXPECT_EQ(c.master.url, "https://ci.example.org/");  // '/' appended
  EXPECT_EQ(c.master.host, "0.0.0.0");
  EXPECT_EQ(c.master.slavePort, 9000);
  EXPECT_EQ(c.master.webPort, 9001);
  EXPECT_EQ(c.master.database, "sqlite:db/state.sqlite");
  EXPECT_EQ(c.master.maxFrame, 65536u);
  EXPECT_EQ(c.master.heartbeatInterval, std::chrono::seconds(5));
  EXPECT_EQ(c.master.heartbeatTimeout, std::chrono::seconds(20));
  EXPECT_EQ(c.master.pingTimeout, std::chrono::seconds(7));

  ASSERT_EQ(c.slaves.size(), 2u);
  EXPECT_EQ(c.slaves[0].name, "s1");
  EXPECT_EQ(c.slaves[0].passwordVerifier, kVerifier);
  EXPECT_EQ(c.slaves[0].maxBuilds, 3);
  EXPECT_EQ(c.slaves[0].properties, (Json{{"os", "linux"}, {"n", 2}, {"ok", true}, {"q", "7"}}));
  EXPECT_EQ(c.slaves[1].maxBuilds, 1);
  EXPECT_EQ(c.findSlave("s2"), &c.slaves[1]);
  EXPECT_EQ(c.findSlave("nope"), nullptr);

  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_TRUE(c.users[0].mayDo("force"));
  EXPECT_TRUE(c.users[0].mayDo("sendchange"));
  EXPECT_FALSE(c.users[0].mayDo("try"));
  EXPECT_EQ(c.findUser("alice"), &c.users[0]);

  ASSERT_EQ(c.locks.size(), 2u);
  EXPECT_EQ(c.locks[1].name, "cpu");
  EXPECT_EQ(c.locks[1].scope, "slave");
  EXPECT_EQ(c.locks[1].maxCount, 2);
  EXPECT_EQ(c.locks[1].maxCountForSlave.at("s1"), 4);

  ASSERT_EQ(c.changeSources.size(), 1u);
  const ChangeSourceEntry& cs = c.changeSources[0];
  EXPECT_EQ(cs.type, "git_poller");
  EXPECT_EQ(cs.repo, "../app.git");
  EXPECT_EQ(cs.branches, (std::vector<std::string>{"main", "dev"}));
  EXPECT_EQ(cs.interval, 5);
  EXPECT_EQ(cs.project, "p");
  EXPECT_EQ(cs.category, "c");

  ASSERT_EQ(c.schedulers.size(), 4u);
  const SchedulerEntry& q = *c.findScheduler("quick");
  EXPECT_EQ(q.type, "single_branch");
  EXPECT_EQ(q.branch, std::optional<std::string>("main"));
  EXPECT_EQ(q.treeStableTimer, 3);
  EXPECT_EQ(q.files.include, std::vector<std::string>{"src/**"});
  EXPECT_EQ(q.files.exclude, std::vector<std::string>{"docs/**"});
  EXPECT_TRUE(q.onlyImportant);
  EXPECT_EQ(q.changeSources, std::vector<std::string>{"app"});
  EXPECT_EQ(q.priority, -2);
  EXPECT_EQ(q.properties, (Json{{"a", "b"}}));
  EXPECT_EQ(q.builders, std::vector<std::string>{"b1"});
  EXPECT_TRUE(q.extra.empty());
  EXPECT_EQ(c.findScheduler("after")->extra, (Json{{"upstream", "quick"}}));
  EXPECT_EQ(c.findScheduler("after")->branch, std::nullopt);
  EXPECT_EQ(c.findScheduler("tick")->extra, (Json{{"interval", 60}}));
  EXPECT_EQ(c.findScheduler("night")->extra, (Json{{"cron", "0 3 * * *"}}));

  const BuilderEntry& b = *c.findBuilder("b1");
  EXPECT_EQ(b.slaves, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(b.properties, (Json{{"jobs", 4}}));
  ASSERT_EQ(b.locks.size(), 1u);
  EXPECT_EQ(b.locks[0].lock, "cpu");
  EXPECT_EQ(b.locks[0].access, "counting");
  EXPECT_TRUE(b.collapseRequests);
  ASSERT_EQ(b.steps.size(), 4u);
  const StepConfig& gitStep = b.steps[0];
  EXPECT_EQ(gitStep.type, "git");
  EXPECT_EQ(gitStep.name, "git");
  const auto& git = gitStep.as<GitOptions>();
  EXPECT_EQ(git.repo, "/srv/app.git");
  EXPECT_EQ(git.branch, "%(prop:branch)s");
  EXPECT_EQ(git.revision, "%(prop:revision)s");
  EXPECT_EQ(git.mode, "full");
  EXPECT_EQ(git.workdir, "src");
  EXPECT_EQ(git.timeout, 30);
  const StepConfig& shStep = b.steps[1];
  EXPECT_EQ(shStep.type, "shell");
  EXPECT_EQ(shStep.name, "build");
  const auto& sh = shStep.as<ShellOptions>();
  EXPECT_EQ(sh.command, "make -j%(prop:jobs)s");
  EXPECT_TRUE(sh.argv.empty());
  EXPECT_EQ(sh.workdir, "src/sub");
  EXPECT_EQ(sh.env, (std::map<std::string, std::string>{{"CC", "clang"}, {"N", "3"}}));
  EXPECT_EQ(sh.timeout, 0);
  EXPECT_EQ(sh.maxSilence, 60);
  EXPECT_FALSE(shStep.haltOnFailure);
  EXPECT_FALSE(shStep.flunkOnFailure);
  EXPECT_TRUE(shStep.warnOnFailure);
  ASSERT_EQ(shStep.locks.size(), 1u);
  EXPECT_EQ(shStep.locks[0].lock, "db");
  EXPECT_EQ(shStep.locks[0].access, "exclusive");
  // Unnamed steps get their type as name, numbered from the second.
  EXPECT_EQ(b.steps[2].name, "shell");
  EXPECT_EQ(b.steps[2].as<ShellOptions>().argv, (std::vector<std::string>{"make", "check"}));
  EXPECT_TRUE(b.steps[2].as<ShellOptions>().command.empty());
  EXPECT_EQ(b.steps[2].as<ShellOptions>().workdir, "build");
  EXPECT_EQ(b.steps[2].as<ShellOptions>().timeout, 1200);
  EXPECT_TRUE(b.steps[2].haltOnFailure);
  EXPECT_EQ(b.steps[3].name, "shell_2");
}

TEST(MasterConfig, DefaultsWhenSectionsAreAbsent) {
  auto r = parseMasterConfig("master: { name: m }\n", "m.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->master.slavePort, 9989);
  EXPECT_EQ(r.config->master.webPort, 0);
  EXPECT_EQ(r.config->master.database, "sqlite:state.sqlite");
  EXPECT_EQ(r.config->master.url, "http://localhost:8010/");
  EXPECT_TRUE(r.config->builders.empty());
}

TEST(MasterConfig, ExampleDemoLoads) {
  auto r = loadMasterConfig(BB_SOURCE_DIR "/config/examples/demo.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const MasterConfig& c = *r.config;
  EXPECT_EQ(c.master.name, "demo");
  EXPECT_EQ(c.master.slavePort, 9989);
  EXPECT_EQ(c.master.database, "sqlite:state.sqlite");
  ASSERT_NE(c.findSlave("demo-slave"), nullptr);
  ASSERT_NE(c.findUser("demo"), nullptr);
  EXPECT_TRUE(c.findUser("demo")->mayDo("force"));
  ASSERT_EQ(c.changeSources.size(), 1u);
  EXPECT_EQ(c.changeSources[0].repo, "@DEMO_REPO@");
  EXPECT_EQ(c.changeSources[0].interval, 2);
  ASSERT_NE(c.findScheduler("on-commit"), nullptr);
  EXPECT_EQ(c.findScheduler("force")->type, "force");
  const BuilderEntry* b = c.findBuilder("demo-build");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->steps.size(), 3u);
  EXPECT_EQ(b->steps[0].as<GitOptions>().repo, "@DEMO_REPO@");
  EXPECT_FALSE(b->steps[2].as<ShellOptions>().argv.empty());
}

TEST(MasterConfig, ExampleFullLoads) {
  auto r = loadMasterConfig(BB_SOURCE_DIR "/config/examples/full.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->schedulers.size(), 9u);
  EXPECT_EQ(r.config->builders.size(), 3u);
  EXPECT_EQ(r.config->reporters.size(), 2u);
}

TEST(MasterConfig, ExampleArtifactsLoads) {
  auto r = loadMasterConfig(BB_SOURCE_DIR "/config/examples/artifacts.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  const BuilderEntry* b = r.config->findBuilder("compile");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->steps[2].type, "upload_directory");
  EXPECT_EQ(r.config->master.artifactsMaxBuildSize, std::int64_t{5} << 30);
  // The dependent scheduler's build names its upstream by builder.
  const BuilderEntry* pkg = r.config->findBuilder("package");
  ASSERT_NE(pkg, nullptr);
  EXPECT_EQ(pkg->steps[0].type, "download_file");
  const RetentionConfig& ret = r.config->retention;
  EXPECT_EQ(ret.interval, std::chrono::minutes(60));
  EXPECT_EQ(ret.artifacts.maxAgeDays, 30);
  EXPECT_EQ(ret.artifacts.keepBuildsPerBuilder, 20);
  EXPECT_EQ(ret.artifacts.maxTotalBytes, std::int64_t{51200} << 20);
  EXPECT_EQ(ret.logs.maxAgeDays, 365);
  EXPECT_EQ(ret.logs.keepBuildsPerBuilder, 0);
}

// retention: every limit optional; bad values and keys are positioned errors.
TEST(MasterConfig, RetentionSection) {
  auto none = parseMasterConfig("master: {name: m}\n", "m.yaml", masterConfigKinds());
  ASSERT_TRUE(none.ok()) << dump(none.errors);
  EXPECT_FALSE(none.config->retention.any());
  auto half = parseMasterConfig("retention: {logs: {max_age_days: 0.5}}\n", "m.yaml", masterConfigKinds());
  ASSERT_TRUE(half.ok()) << dump(half.errors);
  EXPECT_EQ(half.config->retention.logs.maxAgeDays, 0.5);
  EXPECT_TRUE(half.config->retention.any());
  const std::string yaml =
      "retention:\n"
      "  interval_minutes: 0\n"
      "  artifacts: {max_age_days: -1, keep_builds_per_builder: 0, max_total_mb: lots}\n"
      "  logs: {max_total_mb: 5, max_age_days: never}\n"
      "  files: {}\n";
  auto r = parseMasterConfig(yaml, "m.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  const std::string all = dump(r.errors);
  EXPECT_NE(all.find("m.yaml:2:"), std::string::npos) << all;
  EXPECT_NE(all.find("interval_minutes must be"), std::string::npos) << all;
  EXPECT_NE(all.find("m.yaml:3:"), std::string::npos) << all;
  EXPECT_NE(all.find("max_age_days must be a number of days above 0"), std::string::npos) << all;
  EXPECT_NE(all.find("keep_builds_per_builder must be"), std::string::npos) << all;
  EXPECT_NE(all.find("max_total_mb must be"), std::string::npos) << all;
  EXPECT_NE(all.find("retention.logs: unknown key 'max_total_mb'"), std::string::npos) << all;
  EXPECT_NE(all.find("got 'never'"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown key 'files'"), std::string::npos) << all;
}

// download_file's builder: names a configured builder, and not with build:.
TEST(MasterConfig, DownloadFromTheUpstreamBuilder) {
  const std::string yaml =
      "slaves: [{name: s1, password: \"" + kVerifier + "\"}]\n"
      "builders:\n"
      "  - name: b\n"
      "    slaves: [s1]\n"
      "    steps:\n"
      "      - download_file: {artifact: x, dest: a, builder: nosuch}\n"
      "      - download_file: {artifact: x, dest: a, builder: b, build: \"1\"}\n";
  auto r = parseMasterConfig(yaml, "m.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  const std::string all = dump(r.errors);
  EXPECT_NE(all.find("m.yaml:6:"), std::string::npos) << all;
  EXPECT_NE(all.find("nosuch"), std::string::npos) << all;
  EXPECT_NE(all.find("m.yaml:7:"), std::string::npos) << all;
  EXPECT_NE(all.find("not both"), std::string::npos) << all;
}

// A transfer step's unsafe names are config errors, with their position.
TEST(MasterConfig, TransferStepsRefuseUnsafeNames) {
  const std::string yaml =
      "slaves: [{name: s1, password: \"" + kVerifier + "\"}]\n"
      "builders:\n"
      "  - name: b\n"
      "    slaves: [s1]\n"
      "    steps:\n"
      "      - upload_file: {artifact: ../x, src: a}\n"
      "      - upload_file: {artifact: x, src: /etc/passwd}\n"
      "      - download_file: {artifact: x, dest: a/../../b}\n"
      "      - download_file: {artifact: x, dest: a, mode: \"999\"}\n";
  auto r = parseMasterConfig(yaml, "m.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  const std::string all = dump(r.errors);
  EXPECT_NE(all.find("m.yaml:6:"), std::string::npos) << all;
  EXPECT_NE(all.find("must be one file name"), std::string::npos) << all;
  EXPECT_NE(all.find("is absolute"), std::string::npos) << all;
  EXPECT_NE(all.find("'..' component"), std::string::npos) << all;
  EXPECT_NE(all.find("octal permissions"), std::string::npos) << all;
}

// The examples' verifier must really be for "demo-pass", or the demo slave
// could never log in. Recompute it as RFC 5802 defines it.
TEST(MasterConfig, ExampleVerifierMatchesDemoPassword) {
  const std::string pw = "demo-pass";
  auto salt = base64Decode("jzwqG559bFtKOSgXBvXk0w==");
  ASSERT_TRUE(salt.has_value());
  unsigned char salted[32];
  ASSERT_EQ(PKCS5_PBKDF2_HMAC(pw.data(), static_cast<int>(pw.size()),
                              reinterpret_cast<const unsigned char*>(salt->data()),
                              static_cast<int>(salt->size()), 4096, EVP_sha256(), 32, salted),
            1);
  unsigned char clientKey[32], serverKey[32], storedKey[32];
  unsigned int len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), salted, 32, reinterpret_cast<const unsigned char*>("Client Key"),
                 10, clientKey, &len), nullptr);
  ASSERT_NE(HMAC(EVP_sha256(), salted, 32, reinterpret_cast<const unsigned char*>("Server Key"),
                 10, serverKey, &len), nullptr);
  SHA256(clientKey, 32, storedKey);
  std::string expected = "scram-sha-256$4096:jzwqG559bFtKOSgXBvXk0w==$" +
                         base64Encode(std::string(reinterpret_cast<char*>(storedKey), 32)) + ":" +
                         base64Encode(std::string(reinterpret_cast<char*>(serverKey), 32));
  EXPECT_EQ(expected, kVerifier);
  auto demo = loadMasterConfig(BB_SOURCE_DIR "/config/examples/demo.yaml", masterConfigKinds());
  ASSERT_TRUE(demo.ok()) << dump(demo.errors);
  EXPECT_EQ(demo.config->slaves[0].passwordVerifier, expected);
}

TEST(MasterConfig, MissingFileIsAnError) {
  auto r = loadMasterConfig("/nonexistent/master.yaml", masterConfigKinds());
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 0);
  EXPECT_NE(r.errors[0].toString().find("/nonexistent/master.yaml: cannot open"), std::string::npos)
      << r.errors[0].toString();
}

TEST(ConfigError, ToStringFormats) {
  EXPECT_EQ((ConfigError{"f.yaml", 3, 7, "bad"}).toString(), "f.yaml:3:7: bad");
  EXPECT_EQ((ConfigError{"f.yaml", 0, 0, "bad"}).toString(), "f.yaml: bad");
  EXPECT_EQ((ConfigError{"f.yaml", 3, 0, "bad"}).toString(), "f.yaml:3: bad");
}

}  // namespace
}  // namespace bb
