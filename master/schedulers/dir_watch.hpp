#pragma once
// Wakes its owner when files arrive in a directory: inotify (a file
// closed after writing, or moved in) on the master's event loop, or, where
// inotify is not available (no event loop, or inotify_init fails), a timer
// every `pollInterval`. The owner then lists the directory itself: a wake
// only says "look", so none is lost by coalescing.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/event_loop.hpp"

namespace bb {

class DirWatch {
 public:
  // Starts watching `dir` (which must exist); `wake` runs on the event loop.
  DirWatch(boost::asio::io_context* io, Clock& clock, std::string dir,
           std::chrono::milliseconds pollInterval, std::function<void()> wake);
  ~DirWatch();
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;
  // "inotify" or "polling every N s" (for the log and status).
  std::string mode() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bb
