// Running as a service: the one-line start reports, systemd's Type=notify
// messages read from a NOTIFY_SOCKET this test listens on (as systemd would),
// reconfig saying what changed, and a clean stop of master and slave with
// every shutdown phase logged and no warning for a slave that stops.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <regex>

#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

// A unix datagram socket that receives sd_notify messages.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("bind " + path + " failed");
    timeval tv{30, 0};  // bounds a wait for a message that never comes
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  // The next message, or "(nothing)" after 30 s.
  std::string next() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "(nothing)";
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

class Service : public ::testing::Test {
 protected:
  void SetUp() override {
    master_.create();
    master_.writeConfig(basicMasterYaml(master_.port(), makeVerifier("spw"), makeVerifier("upw")));
    master_.setAuth("alice", "upw");
  }
  // Daemons started in the background by a test that failed half way.
  void TearDown() override {
    if (fileExists(tmp_.sub("slave/buildslave.pid"))) run({BB_BIN_SLAVE, "stop", tmp_.sub("slave")});
    if (fileExists(master_.dir() + "/buildmaster.pid")) run({BB_BIN_MASTER, "stop", master_.dir()});
  }
  TempDir tmp_{"bb-service"};
  MasterProcess master_{tmp_.sub("master")};
};

TEST_F(Service, StartSaysInOneLineWhatItDidAndStopIsClean) {
  CmdResult r = run({BB_BIN_MASTER, "start", master_.dir()});
  ASSERT_EQ(r.rc, 0) << r.describe();
  const auto pid = readFile(master_.dir() + "/buildmaster.pid");
  ASSERT_FALSE(pid.empty());
  EXPECT_EQ(r.out, "buildmaster started in " + master_.dir() + ": pid " +
                       pid.substr(0, pid.find('\n')) + ", port 127.0.0.1:" +
                       std::to_string(master_.port()) + ", log " + master_.dir() +
                       "/buildmaster.log\n")
      << r.describe();

  SlaveProcess slave(tmp_.sub("slave"), master_.port(), "s1", "spw");
  slave.create();
  r = run({BB_BIN_SLAVE, "start", slave.dir()});
  ASSERT_EQ(r.rc, 0) << r.describe();
  const auto spid = readFile(slave.dir() + "/buildslave.pid");
  EXPECT_EQ(r.out, "buildslave 's1' started in " + slave.dir() + ": pid " +
                       spid.substr(0, spid.find('\n')) + ", master 127.0.0.1:" +
                       std::to_string(master_.port()) + ", log " + slave.dir() +
                       "/buildslave.log\n")
      << r.describe();
  ASSERT_TRUE(master_.waitForLog("slave s1 connected"));

  // A slave's normal stop is news, not a warning.
  r = run({BB_BIN_SLAVE, "stop", slave.dir()});
  ASSERT_EQ(r.rc, 0) << r.describe();
  ASSERT_TRUE(master_.waitForLog("slave s1 disconnected")) << master_.log();
  EXPECT_TRUE(contains(master_.log(), "[info] slave s1 is stopping")) << master_.log();
  EXPECT_FALSE(contains(master_.log(), "[warning]")) << master_.log();

  r = run({BB_BIN_MASTER, "stop", master_.dir()});
  ASSERT_EQ(r.rc, 0) << r.describe();
  // Every phase, numbered without a gap, even with no build to wait for.
  const std::string log = master_.log();
  std::size_t at = 0;
  for (int phase = 1; phase <= 5; ++phase) {
    const auto next = log.find(": " + std::to_string(phase) + ". ", at);
    ASSERT_NE(next, std::string::npos) << "no shutdown phase " << phase << " in\n" << log;
    at = next;
  }
}

TEST_F(Service, TellsSystemdWhenReadyReloadingAndStopping) {
  NotifySocket notify(tmp_.sub("notify.sock"));
  ChildProcess m;
  m.start({BB_BIN_MASTER, "start", master_.dir(), "--nodaemon"}, tmp_.sub("master.out"), "",
          {{"NOTIFY_SOCKET", notify.path()}});
  std::string msg = notify.next();
  EXPECT_EQ(msg.rfind("READY=1\nMAINPID=" + std::to_string(m.pid()) + "\nSTATUS=buildmaster started in ", 0), 0u)
      << msg;
  // Ready means listening: a client gets an answer at once.
  const CmdResult st = master_.client({"status"});
  EXPECT_EQ(st.rc, 0) << st.describe();

  // A reconfig (ExecReload) says what changed, to the admin and to systemd.
  std::string yaml = readFile(master_.dir() + "/master.yaml");
  yaml.replace(yaml.find("builders: ["),
               std::string("builders: [").size(),
               "builders: [{name: b2, slaves: [s1], steps: [{shell: {command: \"true\"}}]}, ");
  master_.writeConfig(yaml);
  CmdResult r = master_.reconfig();
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_EQ(r.out, "reconfig complete: builders: added b2\n") << r.describe();
  EXPECT_EQ(notify.next(), "RELOADING=1\nSTATUS=reconfig in progress");
  EXPECT_EQ(notify.next(), "READY=1\nSTATUS=reconfig complete: builders: added b2");
  r = master_.reconfig();
  EXPECT_EQ(r.out, "reconfig complete: nothing changed\n") << r.describe();
  EXPECT_EQ(notify.next(), "RELOADING=1\nSTATUS=reconfig in progress");
  EXPECT_EQ(notify.next(), "READY=1\nSTATUS=reconfig complete: nothing changed");

  // A slave under systemd too.
  SlaveProcess slave(tmp_.sub("slave"), master_.port(), "s1", "spw");
  slave.create();
  ChildProcess s;
  s.start({BB_BIN_SLAVE, "start", slave.dir(), "--nodaemon"}, tmp_.sub("slave.out"), "",
          {{"NOTIFY_SOCKET", notify.path()}});
  msg = notify.next();
  EXPECT_EQ(msg.rfind("READY=1\nMAINPID=" + std::to_string(s.pid()) + "\nSTATUS=buildslave 's1' started", 0), 0u)
      << msg;
  EXPECT_EQ(s.stop(), 0);
  EXPECT_EQ(notify.next(), "STOPPING=1\nSTATUS=stopping: killing running commands");

  // Stop is SIGTERM: the clean shutdown, announced first.
  EXPECT_EQ(m.stop(), 0);
  EXPECT_EQ(notify.next(), "STOPPING=1\nSTATUS=shutting down");
}

}  // namespace
}  // namespace bb::test
