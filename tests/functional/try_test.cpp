// buildbot try with real processes: a developer's clone with a local
// commit and an uncommitted change is tried through the job directory
// (buildbot try --connect local -> buildbot tryserver -> try_jobdir), and
// over a real sshd (--connect ssh), the
// patch is applied on the slave and built, and --wait follows it; refused
// jobs go to bad/ with their reason and build nothing; a master killed
// between a job's commit and its move builds it exactly once; Buildbot's
// own job files of versions 1 to 6 are built.
#include <gtest/gtest.h>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "common/buildbot_try_job.hpp"
#include "common/try_job.hpp"
#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

namespace fs = std::filesystem;

struct TryEnv {
  TempDir tmp{"bb-try"};
  GitRepo origin{tmp.sub("origin")};
  std::string dev = tmp.sub("dev");
  std::string jobdir = tmp.sub("master/jobs");
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};

  explicit TryEnv(const std::string& extraScheduler = "") {
    origin.init();
    origin.commit("main.txt", "broken\n", "first");
    origin.git({"checkout", "--quiet", "-b", "side"});
    origin.git({"checkout", "--quiet", "main"});
    // The developer's clone: one local commit, one uncommitted change.
    run({"git", "clone", "--quiet", origin.path(), dev});
    GitRepo d(dev);
    d.git({"config", "user.name", "Dev"});
    d.git({"config", "user.email", "dev@example.org"});
    d.commit("feature.txt", "new feature\n", "local commit");
    writeFile(dev + "/main.txt", "fixed\n");
    const std::string v = makeVerifier("pw");
    master.create();
    master.writeConfig(
        "master: {name: try, slave_port: " + std::to_string(master.port()) + "}\n"
        "slaves: [{name: s1, password: " + q(v) + ", max_builds: 1}]\n"
        "users: [{name: alice, password: " + q(v) + ", may: [status]}]\n"
        "builders:\n"
        "  - name: app\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - git: {repo: " + q(origin.path()) + ", branch: main}\n"
        "      - shell: {name: check, command: \"test -f feature.txt && grep -qx fixed main.txt\"}\n"
        "  - name: other\n"
        "    slaves: [s1]\n"
        "    steps: [{shell: {command: \"true\"}}]\n"
        "schedulers:\n"
        "  - {name: tryjd, type: try_jobdir, jobdir: jobs, max_patch_bytes: 4000, builders: [app]}\n" +
        extraScheduler);
    master.setAuth("alice", "pw");
    master.start();
    slave.create();
    slave.start();
    if (!master.waitForLog("slave s1 connected")) throw std::runtime_error(master.log());
  }

  // `buildbot try ARGS` in the developer's clone, with the master to --wait on.
  CmdResult tryCmd(std::vector<std::string> args, const std::string& cwd = "") {
    std::vector<std::string> argv = {BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(master.port()),
                                     "--master-fingerprint", master.fingerprint(), "try",
                                     "--connect", "local", "--jobdir", jobdir};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, cwd.empty() ? dev : cwd,
               {{"HOME", tmp.path()}, {"BUILDBOT_MASTER", ""}, {"BUILDBOT_AUTH", "alice:pw"}}, 40s);
  }
  int count(const std::string& sql) { return std::stoi(sqlite(master.dbPath(), sql)[0][0]); }
  // Drops `text` into new/ as a job file, as an editor of the maildir would.
  void dropJob(const std::string& name, const std::string& text) {
    writeFile(jobdir + "/tmp/" + name, text);
    fs::rename(jobdir + "/tmp/" + name, jobdir + "/new/" + name);
  }
  bool inBad(const std::string& name) { return fileExists(jobdir + "/bad/" + name); }
};

TEST(Try, LocalCommitAndUncommittedChangeAreBuiltThroughTheJobDirectory) {
  TryEnv env;
  CmdResult r = env.tryCmd({"-b", "app", "--wait", "--comment", "please try"});
  ASSERT_EQ(r.rc, 0) << r.describe() << env.master.log();
  EXPECT_NE(r.out.find("complete: success"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check"), std::string::npos) << r.out;  // steps shown as they finish
  // The build ran on the merge-base with the patch; the job moved to cur/.
  auto rows = sqlite(env.master.dbPath(),
                     "SELECT b.ss_revision, b.ss_branch, p.author, p.comment, p.patch_level FROM buildsets b"
                     " JOIN buildset_patches p ON p.buildset_id = b.id");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], env.origin.head());
  EXPECT_EQ(rows[0][1], "main");
  EXPECT_EQ(rows[0][3], "please try");
  EXPECT_EQ(rows[0][4], "1");
  EXPECT_EQ(env.count("SELECT count(*) FROM logs WHERE name = 'patch'"), 1);
  int inCur = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(env.jobdir + "/cur")) ++inCur;
  EXPECT_EQ(inCur, 1);
  // A try build never collapses with, nor counts as, a plain one: owner and comment are properties.
  const std::string props = sqlite(env.master.dbPath(), "SELECT properties FROM buildsets")[0][0];
  EXPECT_NE(props.find("try_comment"), std::string::npos) << props;
}

// A real OpenSSH server (Debian's openssh-server) on 127.0.0.1 and a free
// port, with a host key and a user key the test makes; it runs as the test's
// user (root in CI, so StrictModes no and PermitRootLogin yes), without PAM.
struct Sshd {
  TempDir dir{"bb-sshd"};
  int port = freePort();
  ChildProcess proc;
  std::string user;

  Sshd() {
    // sshd insists on its privilege separation directory (the service
    // makes it at boot; a container has none).
    std::error_code ec;
    fs::create_directories("/run/sshd", ec);
    run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.sub("host_key")});
    run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.sub("user_key")});
    writeFile(dir.sub("authorized_keys"), readFile(dir.sub("user_key.pub")));
    // The client trusts exactly this host key.
    writeFile(dir.sub("known_hosts"), "[127.0.0.1]:" + std::to_string(port) + " " + readFile(dir.sub("host_key.pub")));
    writeFile(dir.sub("sshd_config"),
              "ListenAddress 127.0.0.1\nPort " + std::to_string(port) + "\nHostKey " + dir.sub("host_key") +
                  "\nAuthorizedKeysFile " + dir.sub("authorized_keys") +
                  "\nStrictModes no\nPermitRootLogin yes\nUsePAM no\nPasswordAuthentication no\n"
                  "KbdInteractiveAuthentication no\nPidFile " + dir.sub("sshd.pid") + "\nLogLevel VERBOSE\n");
    ::chmod(dir.sub("host_key").c_str(), 0600);
    proc.start({"/usr/sbin/sshd", "-D", "-e", "-f", dir.sub("sshd_config")}, dir.sub("sshd.log"));
    const passwd* pw = ::getpwuid(::geteuid());
    user = pw ? pw->pw_name : "root";
    if (!waitFor([&] { return readFile(dir.sub("sshd.log")).find("listening on 127.0.0.1") != std::string::npos; }, 10s))
      throw std::runtime_error("sshd did not start: " + readFile(dir.sub("sshd.log")));
  }
  // What buildbot try passes to ssh (BUILDBOT_TRY_SSH_OPTIONS).
  std::string clientOptions() const {
    return "-F /dev/null -p " + std::to_string(port) + " -i " + dir.sub("user_key") + " -o UserKnownHostsFile=" +
           dir.sub("known_hosts") + " -o StrictHostKeyChecking=yes -o BatchMode=yes";
  }
};

TEST(Try, TheJobTravelsOverARealSshServer) {
  TryEnv env;
  Sshd sshd;
  std::vector<std::string> argv = {BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(env.master.port()),
                                   "--master-fingerprint", env.master.fingerprint(), "try", "--connect", "ssh",
                                   "--host", "127.0.0.1", "--username", sshd.user, "--jobdir", env.jobdir,
                                   "--buildbotbin", BB_BIN_CLIENT, "-b", "app", "--wait", "--comment", "via ssh"};
  std::map<std::string, std::string> vars{{"HOME", env.tmp.path()}, {"BUILDBOT_MASTER", ""},
                                          {"BUILDBOT_AUTH", "alice:pw"},
                                          {"BUILDBOT_TRY_SSH_OPTIONS", sshd.clientOptions()}};
  CmdResult r = run(argv, env.dev, vars, 40s);
  ASSERT_EQ(r.rc, 0) << r.describe() << readFile(sshd.dir.sub("sshd.log"));
  EXPECT_NE(r.out.find("complete: success"), std::string::npos) << r.out;
  // It really went through sshd: the server logged the key's login and the command.
  const std::string log = readFile(sshd.dir.sub("sshd.log"));
  EXPECT_NE(log.find("Accepted publickey for " + sshd.user + " from 127.0.0.1"), std::string::npos) << log;
  EXPECT_EQ(env.count("SELECT count(*) FROM buildset_patches WHERE comment = 'via ssh'"), 1);
  // A host key the client does not know is refused, and nothing is sent.
  writeFile(sshd.dir.sub("known_hosts"), "");
  r = run(argv, env.dev, vars, 40s);
  EXPECT_EQ(r.rc, 3) << r.describe();
  EXPECT_NE(r.err.find("delivering the job failed (ssh exit 255)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Host key verification failed"), std::string::npos) << r.err;
  EXPECT_EQ(env.count("SELECT count(*) FROM buildsets"), 1);
}

TEST(Try, ABreakingPatchMakesWaitExitNonZero) {
  TryEnv env;
  writeFile(env.dev + "/main.txt", "still broken\n");
  CmdResult r = env.tryCmd({"-b", "app", "--wait", "--quiet"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_NE(r.out.find("complete: failure"), std::string::npos) << r.out;
}

TEST(Try, RefusedJobsGoToBadWithTheirReasonAndNothingIsBuilt) {
  TryEnv env;
  // A builder the scheduler does not list: --wait hears the refusal.
  CmdResult r = env.tryCmd({"-b", "other", "--wait"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_NE(r.err.find("builder 'other' may not be tried here; it can try: app"), std::string::npos) << r.err;
  // Patches that escape the tree, by '..' or an absolute path.
  writeFile(env.tmp.sub("up.diff"), "--- a/../../evil\n+++ b/../../evil\n@@ -0,0 +1 @@\n+x\n");
  r = env.tryCmd({"-b", "app", "--diff", env.tmp.sub("up.diff"), "--wait"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("contains '..'"), std::string::npos) << r.err;
  writeFile(env.tmp.sub("abs.diff"), "--- /etc/passwd\n+++ /etc/passwd\n@@ -0,0 +1 @@\n+x\n");
  r = env.tryCmd({"-b", "app", "--diff", env.tmp.sub("abs.diff"), "-p", "0", "--wait"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("absolute path '/etc/passwd'"), std::string::npos) << r.err;
  // Over max_patch_bytes (4000).
  writeFile(env.tmp.sub("big.diff"), "--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+" + std::string(5000, 'x') + "\n");
  r = env.tryCmd({"-b", "app", "--diff", env.tmp.sub("big.diff"), "--wait"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("max_patch_bytes (4000)"), std::string::npos) << r.err;
  // A malformed job dropped by hand: bad/ with the reason, and a log line.
  env.dropJob("junk.job", "Try-Format: 1\nJob-Id: junk\nBuilder: app\nPatch-Length: 99\n\nshort");
  ASSERT_TRUE(waitFor([&] { return env.inBad("junk.job"); }, 10s)) << env.master.log();
  EXPECT_NE(readFile(env.jobdir + "/bad/junk.job.reason").find("Patch-Length says 99"), std::string::npos);
  EXPECT_TRUE(env.master.waitForLog("bad try job junk.job"));
  // tryserver itself refuses a malformed job before writing it.
  CmdResult ts = run({BB_BIN_CLIENT, "tryserver", "--jobdir", env.jobdir}, "", {}, 10s);
  EXPECT_EQ(ts.rc, 2);
  EXPECT_NE(ts.err.find("refused a malformed job"), std::string::npos) << ts.err;
  EXPECT_EQ(env.count("SELECT count(*) FROM buildsets"), 0);
  EXPECT_EQ(env.count("SELECT count(*) FROM builds"), 0);
  EXPECT_TRUE(env.master.running());
}

TEST(Try, APatchThroughASymlinkFailsTheCheckoutAndWritesNothingOutside) {
  TryEnv env;
  const std::string outside = env.tmp.sub("outside");
  fs::create_directories(outside);
  fs::create_symlink(outside, env.origin.path() + "/out");
  env.origin.git({"add", "out"});
  env.origin.git({"commit", "--quiet", "-m", "link"});
  writeFile(env.tmp.sub("link.diff"), "--- a/out/pwned\n+++ b/out/pwned\n@@ -0,0 +1 @@\n+x\n");
  CmdResult r = env.tryCmd({"-b", "app", "--diff", env.tmp.sub("link.diff"), "--baserev",
                            env.origin.head(), "--branch", "main", "--wait"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_FALSE(fileExists(outside + "/pwned"));
  CmdResult log = env.master.client({"log", "app", "1"});
  EXPECT_NE((log.out + log.err).find("through the symbolic link 'out'"), std::string::npos) << log.describe();
}

TEST(Try, AMasterKilledBetweenCommitAndMoveBuildsTheJobOnce) {
  TryEnv env;
  env.slave.stop();
  env.master.stop();
  ::setenv("BB_TEST_TRY_KILL_AFTER_COMMIT", "1", 1);
  env.master.start();
  ::unsetenv("BB_TEST_TRY_KILL_AFTER_COMMIT");
  CmdResult r = env.tryCmd({"-b", "app", "--quiet"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(waitFor([&] { return !env.master.running(); }, 20s));
  // Committed, not moved: the job is still in new/.
  EXPECT_EQ(env.count("SELECT count(*) FROM buildsets"), 1);
  int inNew = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(env.jobdir + "/new")) ++inNew;
  EXPECT_EQ(inNew, 1);
  env.master.start();
  env.slave.start();
  ASSERT_TRUE(waitFor([&] { return env.count("SELECT count(*) FROM builds WHERE finished = 1") == 1; }, 60s))
      << env.master.log();
  EXPECT_TRUE(env.master.waitForLog("already has buildset 1; not building it again"));
  EXPECT_EQ(env.count("SELECT count(*) FROM buildsets"), 1);
  EXPECT_EQ(env.count("SELECT result FROM builds"), 0);
  EXPECT_TRUE(fileExists(env.jobdir + "/cur") && !fs::is_empty(env.jobdir + "/cur"));
}

TEST(Try, BuildbotJobFilesOfEveryVersionAreBuilt) {
  TryEnv env;
  TryJob job;
  job.branch = "main";
  job.baseRevision = env.origin.head();
  job.patchLevel = 1;
  job.builders = {"app"};
  job.who = "bob";
  job.patch = GitRepo(env.dev).git({"diff", "--binary", env.origin.head()});
  for (int v = 1; v <= 6; ++v) {
    job.jobId = "bb-v" + std::to_string(v);
    env.dropJob("v" + std::to_string(v), formatBuildbotTryJob(job, v));
  }
  ASSERT_TRUE(waitFor([&] { return env.count("SELECT count(*) FROM builds WHERE finished = 1") == 6; }, 60s))
      << env.master.log();
  EXPECT_EQ(env.count("SELECT count(*) FROM builds WHERE result = 0"), 6);
  EXPECT_EQ(env.count("SELECT count(*) FROM buildset_patches WHERE try_job_id LIKE 'bb-v%'"), 6);
}

}  // namespace
}  // namespace bb::test
