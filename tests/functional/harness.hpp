#pragma once
// Helpers for functional tests: real buildmaster / buildslave / buildbot
// processes on loopback, temporary directories, git repositories and
// read-only looks into the master's database.
//
// Failures of a harness step (a command that must succeed but did not, a
// daemon that did not come up) throw std::runtime_error carrying the
// command's output or the daemon's log, so the test fails with the reason.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace bb::test {

using namespace std::chrono_literals;

// A fresh directory under /tmp (mkdtemp), removed with its contents at
// destruction unless the environment variable BB_KEEP_TMP is set.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "bb-func");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + rel
  std::string sub(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind :0, read, close).
int freePort();
// True if something accepts a TCP connection on 127.0.0.1:port now.
bool canConnect(int port);

struct CmdResult {
  int rc = -1;  // exit code; 128+N if killed by signal N; -1 if it could not run
  std::string out, err;
  bool timedOut = false;
  // "rc=N\nstdout:\n...\nstderr:\n..." for assertion messages.
  std::string describe() const;
};

// Runs argv[0] (searched in PATH) with pipes for stdout and stderr, in `cwd`
// (if not empty), with the current environment plus `env` (a value replaces
// the inherited one). The child and its process group are killed with
// SIGKILL when `timeout` passes (timedOut is then true). Stdin is /dev/null.
CmdResult run(std::vector<std::string> argv, std::string cwd = "",
              std::map<std::string, std::string> env = {}, std::chrono::seconds timeout = 60s);

// Polls cond() every `every` until it is true (returns true) or `timeout`
// passes (returns false).
bool waitFor(std::function<bool()> cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every = 100ms);

// Whole-file helpers; readFile gives "" for a missing file, writeFile throws
// on failure and creates missing parent directories.
std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& content);
bool fileExists(const std::string& path);

// A git repository in `dir` (created by init()), for pollers and checkouts.
class GitRepo {
 public:
  explicit GitRepo(std::string dir) : dir_(std::move(dir)) {}
  // git init -b main, with user.name/user.email set; throws on failure.
  void init();
  // Writes `file` (relative) with `content`, commits it; returns the new sha.
  std::string commit(const std::string& file, const std::string& content,
                     const std::string& message = "a commit");
  // The sha of HEAD.
  std::string head() const;
  // Runs "git ARGS..." in the repository; throws if it fails.
  std::string git(std::vector<std::string> args) const;
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

// The SCRAM verifier of `password`, from `buildmaster hash-password`.
std::string makeVerifier(const std::string& password);
// The same, made once per password per test process (it costs a process).
const std::string& verifier(const std::string& password = "pw");

// `s` in double quotes, for the YAML the tests write (verifiers, paths and
// names that need no escaping).
inline std::string q(const std::string& s) { return "\"" + s + "\""; }

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Rows of `sql` run on the database at dbPath opened read-only (or, for a
// postgresql:// URL, on that database); every value as text, NULL as
// "NULL". Throws with the engine's message on any error.
std::vector<std::vector<std::string>> sqlite(const std::string& dbPath, const std::string& sql);

// A child process whose stdout and stderr go to a file.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // kills (SIGKILL) and reaps a child that still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Starts argv in its own process group; throws if fork/exec fails.
  void start(const std::vector<std::string>& argv, const std::string& outputPath,
             const std::string& cwd = "", const std::map<std::string, std::string>& env = {});
  // Whether the child is still running (reaps it if it has exited).
  bool running();
  // Sends SIGTERM and waits up to `timeout`; then SIGKILL. Returns the exit
  // status as run() reports it (128+N for a signal), or -1 if not started.
  int stop(std::chrono::milliseconds timeout = 30s);
  // SIGKILL to the process group, then reap. Returns as stop().
  int kill();
  // Exit status once it has exited (nullopt while it runs).
  std::optional<int> exitStatus();
  pid_t pid() const { return pid_; }

 private:
  int waitExit(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// The minimal master.yaml of the functional tests: slave s1, user alice
// (may sendchange, force, status), builder b1 running `echo hello`,
// schedulers "all" (single_branch main) and "force".
std::string basicMasterYaml(int port, const std::string& slaveVerifier,
                            const std::string& userVerifier);

// The TLS certificate fingerprint of the master that listens on `port`: a
// MasterProcess of this test process, or a Proxy in front of one
// (registerMasterAlias). "" when that master runs with `tls: false` (or
// none is known): slaves, clients and RawPeers then use plain TCP. This is
// how the whole suite runs over TLS, as a new master does by default.
std::string masterFingerprintFor(int port);
// Connections to `alias` reach the master listening on `masterPort`.
void registerMasterAlias(int alias, int masterPort);

// A buildmaster in DIR with its slave_port chosen by freePort().
class MasterProcess {
 public:
  explicit MasterProcess(std::string dir);
  ~MasterProcess();
  // buildmaster create-master DIR; throws with the output if it fails.
  void create();
  // Writes DIR/master.yaml.
  void writeConfig(const std::string& yaml);
  // Starts `buildmaster start DIR --nodaemon` (output in DIR/console.log) and
  // waits until slave_port accepts connections; throws with log() if the
  // master exits or is not listening within `timeout`.
  void start(std::chrono::milliseconds timeout = 30s);
  int stop(std::chrono::milliseconds timeout = 30s);  // SIGTERM, wait
  int kill();                                         // SIGKILL
  bool running() { return proc_.running(); }
  // Where start() sends the master's stdout and stderr (default
  // DIR/console.log); a test whose DIR is on a full disk puts it elsewhere,
  // as systemd's journal is.
  void setConsolePath(std::string path) { console_ = std::move(path); }
  // DIR/buildmaster.log followed by the console output.
  std::string log() const;
  // Waits until log() contains `text`.
  bool waitForLog(const std::string& text, std::chrono::milliseconds timeout = 30s) const;
  // buildmaster reconfig DIR (the master must be running).
  CmdResult reconfig() const;
  // buildmaster ARGS... (e.g. {"checkconfig", dir()}).
  CmdResult admin(std::vector<std::string> args) const;
  // The credentials client() passes in BUILDBOT_AUTH.
  void setAuth(std::string user, std::string password);
  // `buildmaster fingerprint DIR`: the certificate slaves and clients pin;
  // "" when the config says tls: false.
  std::string fingerprint() const;
  // Runs buildbot --master 127.0.0.1:PORT ARGS... with BUILDBOT_AUTH=USER:PASS,
  // trusting the master by fingerprint (or --plaintext with tls: false).
  CmdResult client(std::vector<std::string> args, std::chrono::seconds timeout = 60s) const;
  int port() const { return port_; }
  // The master's process id while start() has it running.
  pid_t pid() const { return proc_.pid(); }
  const std::string& dir() const { return dir_; }
  // DIR/state.sqlite, or under BB_TEST_DATABASE=postgresql the master's
  // PostgreSQL URL (test_database.hpp); sqlite() takes either.
  std::string dbPath() const;
  // Under BB_TEST_DATABASE=postgresql: this master uses `other`'s database
  // (several masters on one database, docs/multimaster.md). Call before
  // create() and writeConfig().
  void shareDatabaseWith(const MasterProcess& other) { sharedDb_ = other.dbPath(); }
  // This master uses the PostgreSQL database at `url` (it must exist), e.g.
  // on a cluster of the test's own. Call before create() and writeConfig().
  void useDatabase(std::string url) { sharedDb_ = std::move(url); }

 private:
  std::string dir_;
  std::string sharedDb_;
  int port_;
  std::string user_ = "alice";
  std::string password_;
  std::string console_;
  ChildProcess proc_;
};

// A buildslave in DIR that connects to 127.0.0.1:masterPort.
class SlaveProcess {
 public:
  SlaveProcess(std::string dir, int masterPort, std::string name, std::string password);
  ~SlaveProcess();
  // buildslave create-slave DIR 127.0.0.1:PORT NAME PASSWORD, with
  // --master-fingerprint of the master on that port (masterFingerprintFor)
  // or --plaintext; `extra` arguments are appended.
  void create(const std::vector<std::string>& extra = {});
  // Starts `buildslave start DIR --nodaemon` (output in DIR/console.log),
  // with `env` added to the environment (e.g. HOME for a VCS's settings).
  void start(const std::map<std::string, std::string>& env = {});
  int stop(std::chrono::milliseconds timeout = 30s);
  int kill();
  bool running() { return proc_.running(); }
  // DIR/buildslave.log followed by DIR/console.log.
  std::string log() const;
  // Waits until log() contains `text`.
  bool waitForLog(const std::string& text, std::chrono::milliseconds timeout = 30s) const;
  const std::string& dir() const { return dir_; }
  // The slave's process id while start() has it running.
  pid_t pid() const { return proc_.pid(); }

 private:
  std::string dir_;
  int masterPort_;
  std::string name_, password_;
  ChildProcess proc_;
};

}  // namespace bb::test
