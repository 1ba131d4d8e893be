#pragma once
// A TCP relay for fault tests: 127.0.0.1:port() -> 127.0.0.1:target.
// freeze() stops moving bytes in both directions without closing anything,
// so to either side the connection becomes half-open.
#include <atomic>
#include <thread>
#include <vector>

namespace bb::test {

class Proxy {
 public:
  // Listens on an ephemeral loopback port and relays every connection
  // accepted there to `target`. Throws std::runtime_error if it cannot.
  explicit Proxy(int target);
  // Stops the relay thread and closes every socket.
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  int port() const { return port_; }
  // From now on no byte is relayed; connections stay open.
  void freeze() { frozen_ = true; }

 private:
  void loop();
  int target_, lfd_ = -1, port_ = 0;
  std::vector<int> fds_;  // pairs: accepted, then its connection to target
  std::atomic<bool> stop_{false}, frozen_{false};
  std::thread thread_;
};

}  // namespace bb::test
