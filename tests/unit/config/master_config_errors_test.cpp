// Every class of master config error is reported, at the right place, and
// all of them at once.
#include "config/master_config.hpp"
#include "master/config_kinds.hpp"

#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.hpp"

namespace bb {
namespace {

using test::dump;
using test::expectErrorAt;
using test::findError;
using test::kVerifier;

std::vector<ConfigError> errorsOf(const std::string& yaml) {
  auto r = parseMasterConfig(yaml, "bad.yaml", masterConfigKinds());
  EXPECT_FALSE(r.ok()) << "expected errors for:\n" << yaml;
  EXPECT_FALSE(r.config.has_value());
  for (const auto& e : r.errors) EXPECT_EQ(e.file, "bad.yaml");
  return r.errors;
}

// A slave and a builder that other snippets can refer to.
std::string masterConfigErrorsBase() {
  return "slaves:\n"
         "  - { name: s1, password: \"" + kVerifier + "\" }\n"
         "builders:\n"
         "  - { name: b1, slaves: [s1], steps: [{ shell: { command: make } }] }\n";
}

TEST(MasterConfigErrors, YamlSyntaxErrorHasPosition) {
  auto errors = errorsOf("master:\n  name: x\n  slave_port: [1, 2\n");
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_NE(errors[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_GT(errors[0].line, 0);
  EXPECT_GT(errors[0].column, 0);
}

TEST(MasterConfigErrors, EmptyFileAndNonMapRoot) {
  auto empty = errorsOf("");
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_NE(empty[0].message.find("empty"), std::string::npos);
  auto list = errorsOf("- a\n- b\n");
  expectErrorAt(list, "top level: must be a map", 1, 1);
}

TEST(MasterConfigErrors, UnknownKeysListAllowedOnes) {
  auto errors = errorsOf("master:\n  name: m\n  slave_prot: 9000\nbuilder: []\n");
  expectErrorAt(errors, "unknown key 'slave_prot'", 3, 3);
  const ConfigError* e = findError(errors, "slave_prot");
  EXPECT_NE(e->message.find("allowed keys: name, url, host, slave_port"), std::string::npos)
      << e->message;
  expectErrorAt(errors, "unknown key 'builder'", 4, 1);
  EXPECT_EQ(errors.size(), 2u) << dump(errors);
}

TEST(MasterConfigErrors, PropertyNamesMustBeReachableAndNotFromTheSourceStamp) {
  auto errors = errorsOf(
      "slaves:\n"
      "  - { name: s1, password: \"" + kVerifier + "\", properties: { \"x$y\": 1 } }\n"
      "builders:\n"
      "  - { name: b1, slaves: [s1], properties: { revision: abc },\n"
      "      steps: [{ shell: { command: make } }] }\n"
      "schedulers:\n"
      "  - { name: a, type: single_branch, branch: main, builders: [b1],\n"
      "      properties: { \"a/b\": 2, ok.name-1_: 3 } }\n");
  expectErrorAt(errors,
                "properties: property name 'x$y' is not allowed: use one or more letters, "
                "digits, '_', '.' or '-' (a name that %(prop:NAME)s can refer to)",
                2, static_cast<int>(("  - { name: s1, password: \"" + kVerifier +
                                     "\", properties: { ").size()) + 1);  // at the key
  expectErrorAt(errors, "property name 'a/b' is not allowed", 8, 21);
  expectErrorAt(errors,
                "properties: property 'revision' cannot be set: a build's revision comes from its "
                "source stamp",
                4, 45);
  EXPECT_EQ(findError(errors, "ok.name-1_"), nullptr) << dump(errors);
}

TEST(MasterConfigErrors, DuplicateKey) {
  auto errors = errorsOf("master:\n  name: m\n  name: n\n");
  expectErrorAt(errors, "duplicate key 'name' (first given at line 2)", 3, 3);
}

TEST(MasterConfigErrors, WrongTypesAndRanges) {
  auto errors = errorsOf(
      "master:\n"
      "  slave_port: 70000\n"
      "  web_port: -1\n"
      "  heartbeat_interval: soon\n"
      "  max_frame: [1]\n"
      "  url: ftp://x/\n"
      "  database: mysql://x/db\n");
  expectErrorAt(errors, "slave_port must be an integer between 1 and 65535, got '70000'", 2, 15);
  expectErrorAt(errors, "web_port must be an integer between 0 and 65535", 3, 13);
  expectErrorAt(errors, "heartbeat_interval must be an integer between 1 and 3600", 4, 23);
  expectErrorAt(errors, "max_frame must be an integer between 1024 and 1073741824, got a list",
                5, 14);
  expectErrorAt(errors, "url must start with http:// or https://", 6, 8);
  expectErrorAt(errors, "database must be 'sqlite:<path>'", 7, 13);
}

TEST(MasterConfigErrors, DatabaseUrlWithAPasswordIsRefusedWithoutRepeatingIt) {
  for (const char* url : {"postgresql://ci:s3cret@db.example:5432/ci",
                          "postgres://ci@db.example/ci?sslmode=require&password=s3cret"}) {
    auto errors = errorsOf(std::string("master:\n  database: \"") + url + "\"\n");
    expectErrorAt(errors, "database URL must not contain a password", 2, 13);
    EXPECT_EQ(dump(errors).find("s3cret"), std::string::npos) << dump(errors);
  }
  auto errors = errorsOf("master:\n  database: postgresql://ci@db.example:5432\n");
  expectErrorAt(errors, "database must name the database: postgresql://USER@HOST:PORT/DBNAME", 2, 13);
  auto r = parseMasterConfig("master: {database: \"postgresql://ci@db.example:5432/ci\"}\n", "m.yaml",
                             masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->master.database, "postgresql://ci@db.example:5432/ci");
}

TEST(MasterConfigErrors, DatabasePasswordFileOnlyForPostgresql) {
  auto errors = errorsOf("master:\n  database: sqlite:state.sqlite\n  database_password_file: pw\n");
  expectErrorAt(errors, "database_password_file is only for a postgresql:// database", 3, 27);
  errors = errorsOf("master:\n  database: postgresql://ci@db/ci\n  database_password_file: \"\"\n");
  expectErrorAt(errors, "database_password_file is empty", 3, 27);
  auto r = parseMasterConfig(
      "master: {database: \"postgresql://ci@db/ci\", database_password_file: secrets/db}\n",
      "m.yaml", masterConfigKinds());
  ASSERT_TRUE(r.ok()) << dump(r.errors);
  EXPECT_EQ(r.config->master.databasePasswordFile, "secrets/db");
}

TEST(MasterConfigErrors, PortClashAndHeartbeatOrder) {
  auto errors = errorsOf(
      "master:\n  slave_port: 8000\n  web_port: 8000\n  heartbeat_interval: 30\n  heartbeat_timeout: 30\n");
  expectErrorAt(errors, "web_port and slave_port are both 8000", 3, 13);
  expectErrorAt(errors, "heartbeat_timeout (30) must be greater than heartbeat_interval (30)", 5, 22);
  // web_port 0 never clashes.
  auto ok = parseMasterConfig("master: { slave_port: 8000, web_port: 0 }\n", "ok.yaml", masterConfigKinds());
  EXPECT_TRUE(ok.ok()) << dump(ok.errors);
}

TEST(MasterConfigErrors, WebKeys) {
  auto errors = errorsOf(
      "master:\n"
      "  web_host: \"\"\n"
      "  web_read_login: maybe\n"
      "  web_max_body: 10\n"
      "  web_max_connections: 0\n");
  expectErrorAt(errors, "web_host must be an address to bind to", 2, 13);
  expectErrorAt(errors, "web_read_login must be", 3, 19);
  expectErrorAt(errors, "web_max_body must be an integer between 1024 and 1073741824", 4, 17);
  expectErrorAt(errors, "web_max_connections must be an integer between 1 and 1000000", 5, 24);
  auto ok = parseMasterConfig(
      "master: { host: 0.0.0.0, web_port: 8010, web_read_login: true, web_max_body: 4096,"
      " web_max_connections: 2000 }\n", "ok.yaml",
      masterConfigKinds());
  ASSERT_TRUE(ok.ok()) << dump(ok.errors);
  EXPECT_EQ(ok.config->master.webHost, "");  // the web binds to `host`
  EXPECT_TRUE(ok.config->master.webReadLogin);
  EXPECT_EQ(ok.config->master.webMaxBody, 4096u);
  EXPECT_EQ(ok.config->master.webMaxConnections, 2000u);
}

TEST(MasterConfigErrors, MissingRequiredKeys) {
  auto errors = errorsOf(
      "slaves:\n"
      "  - { max_builds: 2 }\n"
      "builders:\n"
      "  - name: b\n"
      "    slaves: []\n");
  expectErrorAt(errors, "slaves item 1: missing required key 'name'", 2, 5);
  expectErrorAt(errors, "missing required key 'password'", 2, 5);
  expectErrorAt(errors, "builder 'b': missing required key 'steps'", 4, 5);
  expectErrorAt(errors, "slaves is empty", 5, 13);
}

TEST(MasterConfigErrors, DuplicateNames) {
  auto errors = errorsOf(masterConfigErrorsBase() +
                         "  - { name: b1, slaves: [s1], steps: [{ shell: { command: x } }] }\n"
                         "locks:\n"
                         "  - { name: l }\n"
                         "  - { name: l }\n"
                         "users:\n"
                         "  - { name: u, password: \"" + kVerifier + "\" }\n"
                         "  - { name: u, password: \"" + kVerifier + "\" }\n");
  expectErrorAt(errors, "duplicate builder name 'b1' (first defined at line 4)", 5, 13);
  expectErrorAt(errors, "duplicate lock name 'l' (first defined at line 7)", 8, 13);
  expectErrorAt(errors, "duplicate user name 'u' (first defined at line 10)", 11, 13);
}

TEST(MasterConfigErrors, BadPasswordVerifierNeverEchoed) {
  auto errors = errorsOf(
      "slaves:\n"
      "  - { name: s1, password: hunter2 }\n"
      "  - { name: s2, password: \"scram-sha-256$4096:c2FsdA==$c2hvcnQ=:c2hvcnQ=\" }\n"
      "  - { name: s3, password: \"scram-sha-256$12:c2FsdA==$AAAA:AAAA\" }\n");
  expectErrorAt(errors, "slave 's1': password must be a SCRAM-SHA-256 verifier", 2, 27);
  expectErrorAt(errors, "keys must be base64 of 32 bytes", 3, 27);
  expectErrorAt(errors, "iteration count", 4, 27);
  for (const auto& e : errors) {
    EXPECT_EQ(e.message.find("hunter2"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("buildmaster hash-password"), std::string::npos) << e.message;
  }
}

TEST(MasterConfigErrors, UnknownReferences) {
  auto errors = errorsOf(masterConfigErrorsBase() +
                         "  - name: b2\n"
                         "    slaves: [s1, ghost]\n"
                         "    locks: [{ lock: nolock }]\n"
                         "    steps: [{ shell: { command: x, locks: [{ lock: l, access: shared }] } }]\n"
                         "locks: [{ name: l, scope: slave, max_count_for_slave: { nobody: 2 } }]\n"
                         "schedulers:\n"
                         "  - { name: s, type: force, builders: [b1, nob] }\n"
                         "  - { name: d, type: dependent, upstream: nosched, builders: [b1] }\n"
                         "  - { name: c, type: any_branch, change_sources: [nosrc], builders: [b1] }\n");
  expectErrorAt(errors, "builder 'b2': unknown slave 'ghost'; defined slaves: s1", 6, 18);
  expectErrorAt(errors, "unknown lock 'nolock'; defined locks: l", 7, 21);
  expectErrorAt(errors, "access must be one of exclusive, counting; got 'shared'", 8, 63);
  expectErrorAt(errors, "unknown slave 'nobody'", 9, 57);
  expectErrorAt(errors, "scheduler 's': unknown builder 'nob'; defined builders: b1, b2", 11, 44);
  expectErrorAt(errors, "scheduler 'd': unknown scheduler 'nosched'", 12, 43);
  expectErrorAt(errors, "unknown change source 'nosrc'; no change_sources are defined", 13, 51);
}

TEST(MasterConfigErrors, StepProblems) {
  auto errors = errorsOf(
      "slaves: [{ name: s1, password: \"" + kVerifier + "\" }]\n"
      "builders:\n"
      "  - name: b\n"
      "    slaves: [s1]\n"
      "    steps:\n"
      "      - shell: { command: \"\" }\n"
      "      - shell: { command: [] }\n"
      "      - shell: { name: x }\n"
      "      - git: { mode: fast }\n"
      "      - make: { target: all }\n"
      "      - shell: { command: \"echo %(prop:branch\" }\n"
      "      - shell: { command: ok, timeout: -5, workdir: ../up }\n"
      "      - { shell: { command: a }, git: { repo: r } }\n"
      "  - { name: empty, slaves: [s1], steps: [] }\n");
  expectErrorAt(errors, "step 1 (shell): command is empty", 6, 27);
  expectErrorAt(errors, "step 2 (shell): command is empty", 7, 27);
  expectErrorAt(errors, "step 'x': missing required key 'command'", 8, 16);
  expectErrorAt(errors, "step 4 (git): missing required key 'repo'", 9, 14);
  expectErrorAt(errors, "mode must be one of incremental, full; got 'fast'", 9, 22);
  expectErrorAt(errors, "unknown step type 'make'; allowed: shell, git", 10, 9);
  expectErrorAt(errors, "command: unterminated '%('", 11, 27);
  expectErrorAt(errors, "timeout must be a non-negative integer, got '-5'", 12, 40);
  expectErrorAt(errors, "workdir must not contain '..'", 12, 53);
  expectErrorAt(errors, "step 8 must be a one-key map", 13, 9);
  expectErrorAt(errors, "builder 'empty': steps must be a non-empty list", 14, 41);
}

TEST(MasterConfigErrors, SchedulerTypeSpecific) {
  auto errors = errorsOf(masterConfigErrorsBase() +
                         "schedulers:\n"
                         "  - { name: a, type: weekly, builders: [b1] }\n"
                         "  - { name: b, type: dependent, builders: [b1] }\n"
                         "  - { name: c, type: periodic, interval: 0, builders: [b1] }\n"
                         "  - { name: d, type: nightly, cron: \"0 3 *\", builders: [b1] }\n"
                         "  - { name: e, type: force, cron: \"0 3 * * *\", builders: [b1] }\n"
                         "  - { name: f, type: single_branch, builders: [b1] }\n"
                         "  - { name: g, type: dependent, upstream: g, builders: [b1] }\n"
                         "  - { name: h, type: force, builders: [] }\n"
                         "  - { name: i, type: force, builders: [b1], tree_stable_timer: -1 }\n");
  expectErrorAt(errors, "scheduler 'a': type must be one of single_branch, any_branch", 6, 22);
  expectErrorAt(errors, "scheduler 'b': missing required key 'upstream'", 7, 5);
  expectErrorAt(errors, "interval must be a positive integer, got '0'", 8, 42);
  expectErrorAt(errors, "must have 5 fields", 9, 37);
  expectErrorAt(errors, "scheduler 'e': unknown key 'cron'", 10, 29);
  expectErrorAt(errors, "scheduler 'f': missing required key 'branch'", 11, 5);
  expectErrorAt(errors, "cannot be its own upstream", 12, 43);
  expectErrorAt(errors, "scheduler 'h': builders is empty", 13, 39);
  expectErrorAt(errors, "tree_stable_timer must be an integer between 0 and 604800", 14, 64);
}

TEST(MasterConfigErrors, DependentCycle) {
  auto errors = errorsOf(masterConfigErrorsBase() +
                         "schedulers:\n"
                         "  - { name: a, type: dependent, upstream: b, builders: [b1] }\n"
                         "  - { name: b, type: dependent, upstream: a, builders: [b1] }\n");
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  expectErrorAt(errors, "dependent schedulers form a cycle (a -> b -> a)", 6, 43);
}

TEST(MasterConfigErrors, SectionShapesAndEnums) {
  auto errors = errorsOf(
      "slaves: { name: s1 }\n"
      "users:\n"
      "  - { name: u, password: \"" + kVerifier + "\", may: [force, deploy] }\n"
      "locks:\n"
      "  - { name: l, scope: global, max_count: 0 }\n"
      "  - { name: m, max_count_for_slave: { s1: 2 } }\n"
      "change_sources:\n"
      "  - { name: c, type: bzr_poller, repo: x, branches: [] }\n"
      "  - { name: \"bad name\", type: git_poller, repo: x, branches: [main] }\n");
  expectErrorAt(errors, "slaves must be a list, got a map", 1, 9);
  expectErrorAt(errors, "may: unknown permission 'deploy'", 3, 176);
  expectErrorAt(errors, "scope must be one of master, slave; got 'global'", 5, 23);
  expectErrorAt(errors, "max_count must be an integer between 1 and 1000000, got '0'", 5, 42);
  expectErrorAt(errors, "max_count_for_slave only applies to scope: slave locks", 6, 37);
  expectErrorAt(errors, "type must be one of git_poller, hg_poller, svn_poller, brz_poller, github_webhook, gitlab_webhook, gitea_webhook; got 'bzr_poller'", 8, 22);
  expectErrorAt(errors, "branches must name at least one branch", 8, 53);
  expectErrorAt(errors, "name 'bad name' may only contain", 9, 13);
}

TEST(MasterConfigErrors, VersionControlValuesThatWouldBeOptionsAndBadSplits) {
  auto errors = errorsOf(
      masterConfigErrorsBase() +
      "change_sources:\n"
      "  - { name: a, type: git_poller, repo: \"ssh://-oProxyCommand=x/r\", branches: [main] }\n"
      "  - { name: b, type: hg_poller, repo: /srv/hg/b, branches: [\"--config=x\"] }\n"
      "  - { name: c, type: svn_poller, repo: /srv/svn/c }\n"
      "  - { name: d, type: svn_poller, repo: \"file:///srv/svn/d\", split: [\"branches/rel-*\"] }\n"
      "  - { name: e, type: svn_poller, repo: \"file:///srv/svn/e\", split: [] }\n");
  EXPECT_NE(findError(errors, "host starts with '-'"), nullptr) << dump(errors);
  EXPECT_NE(findError(errors, "bad branch name '--config=x'"), nullptr) << dump(errors);
  EXPECT_NE(findError(errors, "repo must be a Subversion URL"), nullptr) << dump(errors);
  EXPECT_NE(findError(errors, "'*' must be a whole segment"), nullptr) << dump(errors);
  EXPECT_NE(findError(errors, "split must list at least one pattern"), nullptr) << dump(errors);
}

TEST(MasterConfigErrors, MaxBuildsAndUnknownSlaveKeys) {
  auto errors = errorsOf("slaves:\n  - { name: s1, password: \"" + kVerifier +
                         "\", max_builds: 0, max_bulds: 2 }\n");
  const ConfigError* mb = findError(errors, "max_builds must be an integer between 1 and 1000");
  ASSERT_NE(mb, nullptr) << dump(errors);
  EXPECT_EQ(mb->line, 2);
  expectErrorAt(errors, "unknown key 'max_bulds'; allowed keys: name, password, max_builds, properties",
                2, mb->column + 3);
}

TEST(MasterConfigErrors, ManyErrorsAllReportedInFileOrder) {
  auto errors = errorsOf(
      "master:\n"
      "  slave_port: zero\n"          // 2
      "  colour: blue\n"              // 3
      "slaves:\n"
      "  - { name: s1, password: plain }\n"  // 5
      "builders:\n"
      "  - name: b\n"                 // 7
      "    slaves: [nobody]\n"        // 8
      "    steps: [{ git: {} }]\n"    // 9
      "schedulers:\n"
      "  - { name: s, type: force, builders: [nob] }\n");  // 11
  ASSERT_EQ(errors.size(), 6u) << dump(errors);
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_EQ(errors[1].line, 3);
  EXPECT_EQ(errors[2].line, 5);
  EXPECT_EQ(errors[3].line, 8);
  EXPECT_EQ(errors[4].line, 9);
  EXPECT_EQ(errors[5].line, 11);
  EXPECT_NE(errors[3].message.find("unknown slave 'nobody'"), std::string::npos);
  EXPECT_NE(errors[4].message.find("missing required key 'repo'"), std::string::npos);
  EXPECT_EQ(errors[0].toString(),
            "bad.yaml:2:15: master: slave_port must be an integer between 1 and 65535, got 'zero'");
}

TEST(MasterConfigErrors, SelfContainingAliasIsAnErrorNotACrash) {
  auto errors = errorsOf("slaves: [{ name: s, password: \"" + kVerifier +
                         "\", properties: &x { a: *x } }]\n");
  ASSERT_EQ(errors.size(), 1u) << dump(errors);
  EXPECT_NE(errors[0].message.find("nested more than 64 levels"), std::string::npos)
      << errors[0].message;
}

TEST(MasterConfigErrors, WrongShapesEverywhereAreReportedNotThrown) {
  auto errors = errorsOf(
      "builders: [null, 1, {name: b, slaves: [[x]], steps: [null, {shell: null}, {git: 3}]}]\n"
      "schedulers: [{name: x, type: [a], builders: b, files: [1], change_sources: {a: 1}}]\n"
      "locks: [{name: l, scope: slave, max_count_for_slave: {? [a] : 2}}]\n");
  EXPECT_EQ(errors.size(), 11u) << dump(errors);
  for (const auto& e : errors) {
    EXPECT_GT(e.line, 0) << e.toString();
    EXPECT_GT(e.column, 0) << e.toString();
  }
}

}  // namespace
}  // namespace bb

namespace bb {
namespace {

// Found by tests/fuzz/config_fuzz.cpp: a scheduler entry without `type`
// made the loader throw yaml-cpp's InvalidNode (checkconfig and start died
// with "terminate called") instead of reporting an error.
TEST(MasterConfigErrors, SchedulerWithoutTypeIsAnErrorNotACrash) {
  std::vector<ConfigError> errors;
  EXPECT_NO_THROW(errors = errorsOf(masterConfigErrorsBase() + "schedulers:\n  - { name: nightly, builders: [b1] }\n"));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].message.find("type"), std::string::npos) << errors[0].message;
}

}  // namespace
}  // namespace bb
