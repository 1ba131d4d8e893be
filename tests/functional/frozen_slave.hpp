#pragma once
// A slave that stops answering: it connects to `master` through a Proxy,
// and once the master has it, the proxy freezes. To the master the
// connection is half-open: pings go unanswered until ping_timeout, and
// the slave is declared dead at heartbeat_timeout.
#include <stdexcept>
#include <string>

#include "tests/functional/harness.hpp"
#include "tests/functional/proxy.hpp"

namespace bb::test {

class FrozenSlave {
 public:
  // Throws (with the master's log) if the slave does not connect.
  FrozenSlave(const MasterProcess& master, const std::string& dir, const std::string& name,
              const std::string& password = "pw")
      : proxy_(master.port()), slave_(dir, proxy_.port(), name, password) {
    slave_.create();
    slave_.start();
    if (!master.waitForLog("slave " + name + " connected"))
      throw std::runtime_error("slave " + name + " did not connect through the proxy:\n" + master.log());
    proxy_.freeze();
  }

 private:
  Proxy proxy_;  // before the slave: it must outlive the slave's connection
  SlaveProcess slave_;
};

}  // namespace bb::test
