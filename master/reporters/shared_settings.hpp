#pragma once
// Settings shared by a reporter's worker and the master's loop: what a
// queued item is sent with is read when it is sent, so a reconfig that
// fixes a token or a URL applies to items already waiting.
#include <mutex>

namespace bb {

template <typename T>
class SharedSettings {
 public:
  void set(T s) {
    std::lock_guard lock(mutex_);
    settings_ = std::move(s);
  }
  T get() const {
    std::lock_guard lock(mutex_);
    return settings_;
  }

 private:
  mutable std::mutex mutex_;
  T settings_;
};

}  // namespace bb
