// The sd_notify messages, read from a NOTIFY_SOCKET this test listens on
// (as systemd would).
#include "common/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace bb {
namespace {

class ServiceNotify : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bb-notify-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/notify";
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{5, 0};  // a receive that never comes fails the test, not hangs it
    ASSERT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    std::filesystem::remove_all(dir_);
  }
  std::string receive() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("(nothing)");
  }
  std::string dir_, path_;
  int fd_ = -1;
};

TEST_F(ServiceNotify, SendsReadyReloadingAndStopping) {
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", path_.c_str(), 1), 0);
  notifyReady("buildmaster started:\nport 9989");
  EXPECT_EQ(receive(), "READY=1\nMAINPID=" + std::to_string(::getpid()) +
                           "\nSTATUS=buildmaster started: port 9989");
  notifyReloading();
  EXPECT_EQ(receive(), "RELOADING=1\nSTATUS=reconfig in progress");
  notifyReloaded("reconfig complete: nothing changed");
  EXPECT_EQ(receive(), "READY=1\nSTATUS=reconfig complete: nothing changed");
  notifyStopping("shutting down");
  EXPECT_EQ(receive(), "STOPPING=1\nSTATUS=shutting down");
  // The variable stays for the next message of the same process.
  EXPECT_NE(std::getenv("NOTIFY_SOCKET"), nullptr);
}

TEST_F(ServiceNotify, WithoutNotifySocketNothingIsSent) {
  ::unsetenv("NOTIFY_SOCKET");
  notifyReady("not under systemd");
  timeval tv{0, 200000};
  ASSERT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  EXPECT_EQ(receive(), "(nothing)");
}

}  // namespace
}  // namespace bb
