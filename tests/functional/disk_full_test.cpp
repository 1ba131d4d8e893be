// The master's directory on a disk that fills while a build writes its
// log, and is freed later: the build ends EXCEPTION saying the disk is
// full, the slot is freed, status answers and names the condition, the
// master recovers by itself once there is room, stop always stops, and the
// database stays intact.
//
// The disk is a 2 MiB tmpfs mounted on the master directory inside a mount
// namespace of this test process's own (unshare), so the mount goes away
// with the process even when the test dies. As root it is a plain mount
// namespace; otherwise a user namespace of the test's own. The master's console (stderr, where systemd's journal reads
// it) is outside the full disk.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <stdexcept>

#include "common/message.hpp"
#include "common/results.hpp"
#include "tests/functional/frozen_slave.hpp"
#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

namespace fs = std::filesystem;

// A 2 MiB tmpfs on `dir`, in a private mount namespace of this process.
class SmallDisk {
 public:
  explicit SmallDisk(std::string dir) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    if (::unshare(CLONE_NEWNS) != 0) {
      // Not root: a user namespace of our own, where we are root and may
      // mount a tmpfs (Linux allows it unprivileged; this process has no
      // threads yet, which CLONE_NEWUSER requires).
      const int rootErr = errno;
      const uid_t uid = ::getuid();
      const gid_t gid = ::getgid();
      if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        throw std::runtime_error(std::string("cannot make a mount namespace: as root ") +
                                 std::strerror(rootErr) + ", in a user namespace " +
                                 std::strerror(errno));
      writeFile("/proc/self/setgroups", "deny");
      writeFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
      writeFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    }
    // Mounts made here must not propagate to the rest of the system.
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      throw std::runtime_error(std::string("making / private failed: ") + std::strerror(errno));
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=2m") != 0)
      throw std::runtime_error("mounting a tmpfs on " + dir_ + " failed: " + std::strerror(errno));
  }
  ~SmallDisk() { ::umount2(dir_.c_str(), MNT_DETACH); }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  // Writes zeros to `path` until the disk has no room left at all.
  static void fill(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    std::string block(64 * 1024, '\0');
    for (std::size_t size = block.size(); size > 0; size /= 2)
      while (::write(fd, block.data(), size) == static_cast<ssize_t>(size)) {
      }
    ::close(fd);
  }

 private:
  std::string dir_;
};

// A master whose directory is on a SmallDisk, with builder `big` (output
// that does not end by itself: it goes on until the build is stopped) and
// builder `small` (echo hello), and one slave.
struct FullDiskSetup {
  TempDir tmp{"bb-diskfull"};
  SmallDisk disk{tmp.sub("master")};
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};

  FullDiskSetup() {
    const std::string v = makeVerifier("pw");
    master.create();
    master.writeConfig(
        "master: {name: full, slave_port: " + std::to_string(master.port()) + "}\n"
        "slaves: [{name: s1, password: " + q(v) + "}]\n"
        "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
        "builders:\n"
        "  - name: big\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - {shell: {name: spew, command: \"while true; do head -c 3000 /dev/urandom | base64; "
        "sleep 0.02; done\"}}\n"
        "  - name: small\n"
        "    slaves: [s1]\n"
        "    steps:\n"
        "      - {shell: {name: hello, command: \"echo hello\"}}\n"
        "schedulers: [{name: force, type: force, builders: [big, small]}]\n");
    master.setConsolePath(tmp.sub("console.log"));
    master.setAuth("alice", "pw");
    master.start();
    slave.create();
    slave.start();
    if (!master.waitForLog("slave s1 connected"))
      throw std::runtime_error("the slave did not connect:\n" + master.log());
  }

  std::string filler() const { return master.dir() + "/filler"; }

  // Starts build `big`, waits until its output is being stored, then fills
  // the disk, and waits for the master to say that the disk is full.
  void fillDuringBuild() {
    const bool storing = waitFor([&] {
      return std::stoi(sqlite(master.dbPath(), "SELECT count(*) FROM log_chunks")[0][0]) > 0;
    }, 60s);
    if (!storing) throw std::runtime_error("no output was stored:\n" + master.log());
    SmallDisk::fill(filler());
  }

  Json status() const {
    const CmdResult r = master.client({"status", "--json"});
    if (r.rc != 0) throw std::runtime_error("status failed: " + r.describe());
    return Json::parse(r.out);
  }
};

TEST(DiskFull, ABuildThatFillsTheDiskEndsAndTheMasterRecoversWhenSpaceReturns) {
  FullDiskSetup s;
  auto forced = std::async(std::launch::async, [&] {
    return s.master.client({"force", "--scheduler", "force", "--builder", "big", "--wait"}, 200s);
  });
  s.fillDuringBuild();

  // The log (the console, as the log file is on the full disk) says it clearly.
  ASSERT_TRUE(s.master.waitForLog("disk full: cannot store log of step spew", 60s)) << s.master.log();
  EXPECT_EQ(s.master.log().find("unhandled error in the event loop"), std::string::npos)
      << s.master.log();
  // The master still serves what needs no writing: status names the
  // condition, and the slave's slot is free.
  Json st;
  ASSERT_TRUE(waitFor([&] {
    st = s.status();
    return st.value("storage", "").rfind("disk full since", 0) == 0 &&
           st["slaves"][0].value("builds", -1) == 0;
  }, 60s)) << st.dump(2) << "\n" << s.master.log();
  EXPECT_NE(st.value("storage", "").find("retrying"), std::string::npos) << st.dump(2);
  const CmdResult shown = s.master.client({"status"});
  EXPECT_NE(shown.out.find("\nStorage: disk full since "), std::string::npos) << shown.describe();
  // A request that needs writing is refused with the reason.
  const CmdResult refused = s.master.client({"force", "--scheduler", "force", "--builder", "small"});
  EXPECT_NE(refused.rc, 0) << refused.describe();
  EXPECT_NE(refused.err.find("disk is full"), std::string::npos) << refused.describe();

  // Room again: the build's result is written by itself, the waiting user
  // hears it, and the master builds again without a restart.
  fs::remove(s.filler());
  ASSERT_EQ(forced.wait_for(180s), std::future_status::ready) << s.master.log();
  const CmdResult waited = forced.get();
  EXPECT_NE(waited.rc, 0) << waited.describe();
  EXPECT_NE(waited.out.find("exception"), std::string::npos) << waited.describe();
  EXPECT_NE(waited.out.find("disk full"), std::string::npos) << waited.describe();
  ASSERT_TRUE(waitFor([&] { return s.status().value("storage", "") == "ok"; }, 60s))
      << s.status().dump(2) << "\n" << s.master.log();
  const CmdResult again =
      s.master.client({"force", "--scheduler", "force", "--builder", "small", "--wait"}, 120s);
  EXPECT_EQ(again.rc, 0) << again.describe() << "\n" << s.master.log();
  EXPECT_NE(again.out.find("success"), std::string::npos) << again.describe();

  const auto big = s.master.dbPath();
  const auto rows = sqlite(big, "SELECT finished IS NOT NULL, result, text FROM builds WHERE builder = 'big'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "1");
  EXPECT_EQ(rows[0][1], std::to_string(static_cast<int>(Result::Exception)));
  EXPECT_NE(rows[0][2].find("disk full: cannot store log of step spew"), std::string::npos)
      << rows[0][2];
  // Its step and log are closed with it; the output stored before is kept.
  const auto step = sqlite(big,
      "SELECT s.finished, s.text, l.finished, l.bytes > 0 FROM steps s JOIN logs l ON l.step_id = s.id "
      "JOIN builds b ON b.id = s.build_id WHERE b.builder = 'big'");
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0][0], "1");
  EXPECT_EQ(step[0][1].rfind("disk full: cannot store log of step spew", 0), 0u) << step[0][1];
  EXPECT_EQ(step[0][2], "1");
  EXPECT_EQ(step[0][3], "1");
  EXPECT_EQ(s.master.stop(60s), 0) << s.master.log();
  EXPECT_EQ(s.master.log().find("unhandled error in the event loop"), std::string::npos)
      << s.master.log();
  EXPECT_EQ(sqlite(big, "PRAGMA integrity_check")[0][0], "ok");
}

TEST(DiskFull, StopWhileTheDiskIsFullStopsAndLosesNothingCommitted) {
  FullDiskSetup s;
  ASSERT_EQ(s.master.client({"force", "--scheduler", "force", "--builder", "big"}).rc, 0);
  s.fillDuringBuild();
  ASSERT_TRUE(s.master.waitForLog("disk full: cannot store log of step spew", 60s)) << s.master.log();
  const std::string chunks = sqlite(s.master.dbPath(), "SELECT count(*) FROM log_chunks")[0][0];
  // The build's result is still waiting to be written: stop does not wait
  // for it (a SIGKILL after the limit would exit 137).
  EXPECT_EQ(s.master.stop(60s), 0) << s.master.log();
  EXPECT_NE(s.master.log().find("could not be stored"), std::string::npos) << s.master.log();
  // Nothing escaped to the event loop's last-resort catch (the slave's
  // disconnection is recorded, or its failure logged, where it happens).
  EXPECT_EQ(s.master.log().find("unhandled error in the event loop"), std::string::npos)
      << s.master.log();
  fs::remove(s.filler());
  EXPECT_EQ(sqlite(s.master.dbPath(), "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_EQ(sqlite(s.master.dbPath(), "SELECT count(*) FROM log_chunks")[0][0], chunks);
}

// A request is claimed before its slave is pinged; when the ping fails it
// goes back to the queue. If that write fails (the disk filled meanwhile),
// the master keeps trying on its own, and once there is room the request
// is pending again, at its place, and built by the next slave: it never
// stays claimed by a master that does not build it.
TEST(DiskFull, ARequestWhosePingFailsWhileTheDiskIsFullGoesBackToTheQueueWhenThereIsRoom) {
  TempDir tmp{"bb-diskfull"};
  SmallDisk disk{tmp.sub("master")};  // before any thread: see SmallDisk
  MasterProcess master{tmp.sub("master")};
  const std::string v = makeVerifier("pw");
  master.create();
  // ping_timeout 2 s is shorter than heartbeat_timeout 3 s: the frozen
  // slave fails the ping before it is declared dead.
  master.writeConfig(
      "master: {name: full, slave_port: " + std::to_string(master.port()) +
      ", heartbeat_interval: 1, heartbeat_timeout: 3, ping_timeout: 2}\n"
      "slaves: [{name: s1, password: " + q(v) + "}, {name: s2, password: " + q(v) + "}]\n"
      "users: [{name: alice, password: " + q(v) + ", may: [force, status]}]\n"
      "builders: [{name: small, slaves: [s1, s2], steps: [{shell: {name: hello, command: \"echo hello\"}}]}]\n"
      "schedulers: [{name: force, type: force, builders: [small]}]\n");
  master.setConsolePath(tmp.sub("console.log"));
  master.setAuth("alice", "pw");
  master.start();
  FrozenSlave frozen(master, tmp.sub("s1"), "s1");

  ASSERT_EQ(master.client({"force", "--scheduler", "force"}).rc, 0) << master.log();
  const std::string db = master.dbPath();
  ASSERT_TRUE(waitFor([&] { return sqlite(db, "SELECT claimed FROM buildrequests")[0][0] == "1"; }, 20s))
      << "claimed before the ping\n" << master.log();
  SmallDisk::fill(master.dir() + "/filler");
  ASSERT_TRUE(master.waitForLog("giving it back to the queue failed", 20s)) << master.log();
  EXPECT_TRUE(master.waitForLog("slave s1 did not answer the ping", 20s)) << master.log();
  EXPECT_EQ(sqlite(db, "SELECT claimed, complete FROM buildrequests")[0],
            (std::vector<std::string>{"1", "0"}));

  // Room again: the master gives it back by itself, no slave or client
  // needed (the distributor retries the write every second).
  fs::remove(master.dir() + "/filler");
  ASSERT_TRUE(waitFor([&] {
    return sqlite(db, "SELECT claimed, complete FROM buildrequests")[0] == std::vector<std::string>{"0", "0"};
  }, 30s)) << master.log();
  EXPECT_TRUE(sqlite(db, "SELECT id FROM builds").empty());

  SlaveProcess healthy(tmp.sub("s2"), master.port(), "s2", "pw");
  healthy.create();
  healthy.start();
  ASSERT_TRUE(waitFor([&] {
    return sqlite(db, "SELECT count(*) FROM builds WHERE finished = 1")[0][0] == "1";
  }, 60s)) << master.log();
  EXPECT_EQ(sqlite(db, "SELECT slave, result FROM builds")[0],
            (std::vector<std::string>{"s2", std::to_string(static_cast<int>(Result::Success))}));
  EXPECT_EQ(sqlite(db, "SELECT complete FROM buildrequests")[0][0], "1");
  EXPECT_EQ(master.stop(60s), 0) << master.log();
  EXPECT_EQ(master.log().find("unhandled error in the event loop"), std::string::npos) << master.log();
}

}  // namespace
}  // namespace bb::test
