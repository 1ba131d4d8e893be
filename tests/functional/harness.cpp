#include "tests/functional/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "common/spawn.hpp"
#include "common/tls_cert.hpp"
#include "master/db/database_file.hpp"
#include "tests/functional/test_database.hpp"
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace bb::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// argv and envp as the C arrays posix_spawnp wants.
struct ExecArgs {
  std::vector<std::string> argvStore, envStore;
  std::vector<char*> argv, envp;

  ExecArgs(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
      : argvStore(args) {
    std::map<std::string, std::string> merged;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const std::string kv = *e;
      const auto eq = kv.find('=');
      // Inherited GIT_* variables are dropped: run from `git rebase
      // --exec` or a hook, GIT_DIR names the developer's repository, and
      // the tests' `git init`/`git config`/`git commit` (and the git the
      // master and slave run) would act on it instead of the temporary
      // repositories (it once turned the project's repository bare).
      if (eq != std::string::npos && kv.rfind("GIT_", 0) != 0)
        merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : env) merged[k] = v;
    for (const auto& [k, v] : merged) envStore.push_back(k + "=" + v);
    for (auto& s : argvStore) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : envStore) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Starts argv[0] (searched in PATH) with common/spawn.hpp: not fork(),
// which copies the test's page tables and makes its memory copy-on-write
// (milliseconds per command on this project's VM, counted in every timing
// a benchmark takes of a client). Returns the pid, or -1 with `why` set
// ("exec failed: PROG: ...").
pid_t spawnChild(ExecArgs& a, const std::string& cwd, int out, int err, std::string& why) {
  SpawnSpec how;
  how.program = a.argv[0];
  how.searchPath = true;
  how.argv = a.argv.data();
  how.envp = a.envp.data();
  how.stdoutFd = out;
  how.stderrFd = err;
  how.cwd = cwd;
  int rc = 0;
  const pid_t pid = spawnProcess(how, rc);
  if (pid < 0) {
    std::error_code ec;
    why = (!cwd.empty() && !fs::is_directory(cwd, ec) ? "chdir failed: " + cwd : "exec failed: " + std::string(a.argv[0])) +
          ": " + std::strerror(rc);
  }
  return pid;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

bool canConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// ---- TempDir ----

TempDir::TempDir(const std::string& prefix) {
  std::string templ = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error(errnoText("mkdtemp " + templ));
  path_ = templ;
}

TempDir::~TempDir() {
  if (std::getenv("BB_KEEP_TMP") != nullptr) return;
  std::error_code ec;
  fs::remove_all(path_, ec);  // best effort: a test must not fail in cleanup
}

// ---- ports, commands, polling ----

int freePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(errnoText("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string e = errnoText("bind 127.0.0.1:0");
    close(fd);
    throw std::runtime_error(e);
  }
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string e = errnoText("getsockname");
    close(fd);
    throw std::runtime_error(e);
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string CmdResult::describe() const {
  return "rc=" + std::to_string(rc) + (timedOut ? " (timed out)" : "") + "\nstdout:\n" + out +
         "\nstderr:\n" + err;
}

CmdResult run(std::vector<std::string> argv, std::string cwd,
              std::map<std::string, std::string> env, std::chrono::seconds timeout) {
  CmdResult r;
  if (argv.empty()) throw std::invalid_argument("run: empty argv");
  ExecArgs args(argv, env);
  int outPipe[2], errPipe[2];
  if (pipe2(outPipe, O_CLOEXEC) != 0) throw std::runtime_error(errnoText("pipe2"));
  if (pipe2(errPipe, O_CLOEXEC) != 0) {
    close(outPipe[0]);
    close(outPipe[1]);
    throw std::runtime_error(errnoText("pipe2"));
  }
  std::string why;
  const pid_t pid = spawnChild(args, cwd, outPipe[1], errPipe[1], why);
  if (pid < 0) {
    // As a shell reports a program it cannot run: status 127 and why.
    for (int fd : {outPipe[0], outPipe[1], errPipe[0], errPipe[1]}) close(fd);
    r.rc = 127;
    r.err = "harness: " + why + "\n";
    return r;
  }
  setpgid(pid, pid);  // also in the parent, so kill(-pid) works at once
  close(outPipe[1]);
  close(errPipe[1]);

  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int openCount = 2;
  char buf[65536];
  while (openCount > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 && !r.timedOut) {
      r.timedOut = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    const int n = poll(fds, 2, r.timedOut ? 1000 : static_cast<int>(std::min<long>(left, 1000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0 && r.timedOut) break;  // a grandchild holds the pipe: give up on it
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --openCount;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(errnoText("waitpid"));
  }
  r.rc = decodeStatus(status);
  return r;
}

bool waitFor(std::function<bool()> cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

// ---- files ----

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void writeFile(const std::string& path, const std::string& content) {
  const fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (ec) throw std::runtime_error("cannot create " + p.parent_path().string() + ": " + ec.message());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error(errnoText("cannot write " + path));
  f << content;
  f.close();
  if (!f) throw std::runtime_error("cannot write " + path);
}

bool fileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// ---- git ----

std::string GitRepo::git(std::vector<std::string> args) const {
  args.insert(args.begin(), "git");
  const CmdResult r = run(args, dir_, {{"GIT_CONFIG_NOSYSTEM", "1"}});
  if (r.rc != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    throw std::runtime_error("in " + dir_ + ": " + cmd + "failed: " + r.describe());
  }
  return r.out;
}

void GitRepo::init() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + dir_ + ": " + ec.message());
  git({"init", "-q", "-b", "main"});
  git({"config", "user.name", "Functional Test"});
  git({"config", "user.email", "test@example.invalid"});
  git({"config", "commit.gpgsign", "false"});
}

std::string GitRepo::commit(const std::string& file, const std::string& content,
                            const std::string& message) {
  writeFile(dir_ + "/" + file, content);
  git({"add", "--", file});
  git({"commit", "-q", "-m", message});
  return head();
}

std::string GitRepo::head() const { return trimmed(git({"rev-parse", "HEAD"})); }

// ---- master helpers ----

std::string makeVerifier(const std::string& password) {
  const CmdResult r = run({BB_BIN_MASTER, "hash-password", "--password", password});
  const std::string v = trimmed(r.out);
  if (r.rc != 0 || v.rfind("scram-sha-256$", 0) != 0)
    throw std::runtime_error("buildmaster hash-password did not print a verifier: " + r.describe());
  return v;
}

const std::string& verifier(const std::string& password) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(password);
  if (it == cache.end()) it = cache.emplace(password, makeVerifier(password)).first;
  return it->second;
}

std::vector<std::vector<std::string>> sqlite(const std::string& dbPath, const std::string& sql) {
  if (dbPath.rfind("postgresql://", 0) == 0) return postgresRows(dbPath, sql);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(dbPath.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + dbPath + " read-only: " + msg);
  }
  // The master writes concurrently (WAL); wait for its locks a while.
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* st = nullptr;
  rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("bad SQL '" + sql + "' on " + dbPath + ": " + msg);
  }
  std::vector<std::vector<std::string>> rows;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string> row;
    const int n = sqlite3_column_count(st);
    for (int i = 0; i < n; ++i) {
      if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        row.push_back("NULL");
      } else {
        const unsigned char* t = sqlite3_column_text(st, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "",
                         static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
      }
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    throw std::runtime_error("query '" + sql + "' on " + dbPath + " failed: " + msg);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

// ---- ChildProcess ----

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) kill();
}

void ChildProcess::start(const std::vector<std::string>& argv, const std::string& outputPath,
                         const std::string& cwd, const std::map<std::string, std::string>& env) {
  if (pid_ > 0 && running()) throw std::logic_error("ChildProcess::start: already running");
  ExecArgs args(argv, env);
  const int out = open(outputPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) throw std::runtime_error(errnoText("cannot open " + outputPath));
  std::string why;
  const pid_t pid = spawnChild(args, cwd, out, out, why);
  if (pid < 0) {
    close(out);
    throw std::runtime_error("cannot start " + argv[0] + ": " + why);
  }
  setpgid(pid, pid);
  close(out);
  pid_ = pid;
  status_.reset();
}

std::optional<int> ChildProcess::exitStatus() {
  if (pid_ <= 0) return std::nullopt;
  if (status_) return status_;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) status_ = decodeStatus(status);
  return status_;
}

bool ChildProcess::running() { return pid_ > 0 && !exitStatus(); }

int ChildProcess::waitExit(std::chrono::milliseconds timeout) {
  const bool done = waitFor([this] { return !running(); }, timeout, 20ms);
  return done ? *status_ : -1;
}

int ChildProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (!running()) return *status_;
  ::kill(pid_, SIGTERM);
  const int rc = waitExit(timeout);
  if (rc != -1) return rc;
  return kill();
}

int ChildProcess::kill() {
  if (pid_ <= 0) return -1;
  if (!running()) return *status_;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  status_ = decodeStatus(status);
  return *status_;
}

// ---- MasterProcess ----

std::string basicMasterYaml(int port, const std::string& slaveVerifier,
                            const std::string& userVerifier) {
  return "master: {name: t, slave_port: " + std::to_string(port) +
         ", database: \"sqlite:state.sqlite\"}\n"
         "slaves: [{name: s1, password: \"" + slaveVerifier + "\", max_builds: 1}]\n"
         "users: [{name: alice, password: \"" + userVerifier +
         "\", may: [sendchange, force, status]}]\n"
         "builders: [{name: b1, slaves: [s1], steps: [{shell: {name: hello, command: \"echo "
         "hello\"}}]}]\n"
         "schedulers: [{name: all, type: single_branch, branch: main, builders: [b1]},\n"
         "             {name: force, type: force, builders: [b1]}]\n";
}

namespace {
std::mutex gMastersMutex;
std::map<int, std::string> gMasterDirs;  // port -> master directory
std::map<int, int> gAliases;             // proxy port -> master port
}  // namespace

void registerMasterAlias(int alias, int masterPort) {
  std::lock_guard<std::mutex> lock(gMastersMutex);
  gAliases[alias] = masterPort;
}

std::string masterFingerprintFor(int port) {
  std::string dir;
  {
    std::lock_guard<std::mutex> lock(gMastersMutex);
    for (int hops = 0; hops < 8 && gAliases.count(port); ++hops) port = gAliases[port];
    auto it = gMasterDirs.find(port);
    if (it == gMasterDirs.end()) return "";
    dir = it->second;
  }
  const CmdResult r = run({BB_BIN_MASTER, "fingerprint", dir});
  if (r.rc != 0) {
    if (r.err.find("tls: false") != std::string::npos) return "";
    // A config that does not load now (a test breaking it on purpose):
    // the running master still serves the certificate in the directory.
    try {
      return certificateFingerprint(readCertificateDer(dir + "/master.crt"));
    } catch (const TlsError&) {
      return "";  // no certificate: connecting fails loudly
    }
  }
  std::string fp = r.out;
  while (!fp.empty() && (fp.back() == '\n' || fp.back() == '\r')) fp.pop_back();
  return fp;
}

MasterProcess::MasterProcess(std::string dir) : dir_(std::move(dir)), port_(freePort()) {
  std::lock_guard<std::mutex> lock(gMastersMutex);
  gMasterDirs[port_] = dir_;
}

std::string MasterProcess::fingerprint() const { return masterFingerprintFor(port_); }

MasterProcess::~MasterProcess() {
  if (proc_.running()) proc_.stop(10s);
}

void MasterProcess::create() {
  const CmdResult r = run({BB_BIN_MASTER, "create-master", dir_});
  if (r.rc != 0) throw std::runtime_error("buildmaster create-master " + dir_ + " failed: " + r.describe());
  // create-master made the database the config names; before the test
  // writes its config that is the default SQLite file, so the master's
  // PostgreSQL database gets its schema here (as create-master would).
  if (postgresMode()) db::openMasterDatabase(dbPath(), dir_, db::OpenPurpose::Create);
}

void MasterProcess::writeConfig(const std::string& yaml) {
  writeFile(dir_ + "/master.yaml", postgresMode() ? withDatabase(yaml, dbPath()) : yaml);
}

std::string MasterProcess::dbPath() const {
  if (!sharedDb_.empty()) return sharedDb_;
  return postgresMode() ? postgresDatabaseFor(dir_) : dir_ + "/state.sqlite";
}

void MasterProcess::start(std::chrono::milliseconds timeout) {
  // A test that ran create-master itself before writing its config made
  // the default SQLite file; its PostgreSQL database gets the schema here.
  // (One with a schema, old or new, is left to the master to judge.)
  if (postgresMode()) {
    db::Database pg(dbPath());
    if (pg.schemaVersion() == 0) pg.upgrade();
  }
  proc_.start({BB_BIN_MASTER, "start", dir_, "--nodaemon"},
              console_.empty() ? dir_ + "/console.log" : console_, dir_);
  const bool up = waitFor([this] { return !proc_.running() || canConnect(port_); }, timeout);
  if (!proc_.running())
    throw std::runtime_error("buildmaster exited during startup (status " +
                             std::to_string(proc_.exitStatus().value_or(-1)) + "); log:\n" + log());
  if (!up)
    throw std::runtime_error("buildmaster is not listening on 127.0.0.1:" + std::to_string(port_) +
                             " after startup; log:\n" + log());
}

int MasterProcess::stop(std::chrono::milliseconds timeout) { return proc_.stop(timeout); }
int MasterProcess::kill() { return proc_.kill(); }

std::string MasterProcess::log() const {
  return readFile(dir_ + "/buildmaster.log") +
         readFile(console_.empty() ? dir_ + "/console.log" : console_);
}

bool MasterProcess::waitForLog(const std::string& text, std::chrono::milliseconds timeout) const {
  return waitFor([&] { return log().find(text) != std::string::npos; }, timeout);
}

CmdResult MasterProcess::reconfig() const { return admin({"reconfig", dir_}); }

CmdResult MasterProcess::admin(std::vector<std::string> args) const {
  args.insert(args.begin(), BB_BIN_MASTER);
  return run(args);
}

void MasterProcess::setAuth(std::string user, std::string password) {
  user_ = std::move(user);
  password_ = std::move(password);
}

CmdResult MasterProcess::client(std::vector<std::string> args, std::chrono::seconds timeout) const {
  std::vector<std::string> argv = {BB_BIN_CLIENT, "--master", "127.0.0.1:" + std::to_string(port_)};
  const std::string fp = fingerprint();
  if (fp.empty()) argv.push_back("--plaintext");
  else argv.insert(argv.end(), {"--master-fingerprint", fp});
  argv.insert(argv.end(), args.begin(), args.end());
  // HOME points at the master dir so no real ~/.buildbot/options is read;
  // the password goes in the environment, as the README advises.
  return run(argv, "",
             {{"HOME", dir_}, {"BUILDBOT_MASTER", ""}, {"BUILDBOT_AUTH", user_ + ":" + password_}},
             timeout);
}

// ---- SlaveProcess ----

SlaveProcess::SlaveProcess(std::string dir, int masterPort, std::string name, std::string password)
    : dir_(std::move(dir)),
      masterPort_(masterPort),
      name_(std::move(name)),
      password_(std::move(password)) {}

SlaveProcess::~SlaveProcess() {
  if (proc_.running()) proc_.stop(10s);
}

void SlaveProcess::create(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {BB_BIN_SLAVE, "create-slave", dir_,
                                   "127.0.0.1:" + std::to_string(masterPort_), name_, password_};
  const bool trustGiven = std::any_of(extra.begin(), extra.end(), [](const std::string& a) {
    return a == "--plaintext" || a == "--master-fingerprint" || a == "--ca-file";
  });
  if (!trustGiven) {
    const std::string fp = masterFingerprintFor(masterPort_);
    if (fp.empty()) argv.push_back("--plaintext");
    else argv.insert(argv.end(), {"--master-fingerprint", fp});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  const CmdResult r = run(argv);
  if (r.rc != 0) throw std::runtime_error("buildslave create-slave " + dir_ + " failed: " + r.describe());
}

void SlaveProcess::start(const std::map<std::string, std::string>& env) {
  proc_.start({BB_BIN_SLAVE, "start", dir_, "--nodaemon"}, dir_ + "/console.log", dir_, env);
}

int SlaveProcess::stop(std::chrono::milliseconds timeout) { return proc_.stop(timeout); }
int SlaveProcess::kill() { return proc_.kill(); }

std::string SlaveProcess::log() const {
  return readFile(dir_ + "/buildslave.log") + readFile(dir_ + "/console.log");
}

bool SlaveProcess::waitForLog(const std::string& text, std::chrono::milliseconds timeout) const {
  return waitFor([&] { return log().find(text) != std::string::npos; }, timeout);
}

}  // namespace bb::test
