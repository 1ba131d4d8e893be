#include "master/schedulers/dir_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace bb {

struct DirWatch::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context* io, Clock& clock, std::string dir, std::chrono::milliseconds every,
       std::function<void()> wake)
      : dir(std::move(dir)), every(every), wake(std::move(wake)), timer(clock.makeTimer()) {
    if (!io) return;
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      spdlog::warn("{}: inotify unavailable ({}); polling every {} s", this->dir, std::strerror(errno),
              every.count() / 1000.0);
      return;
    }
    if (::inotify_add_watch(fd, this->dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
      spdlog::warn("{}: cannot watch with inotify ({}); polling every {} s", this->dir,
              std::strerror(errno), every.count() / 1000.0);
      ::close(fd);
      return;
    }
    stream = std::make_unique<boost::asio::posix::stream_descriptor>(*io, fd);
  }
  void start() {
    if (stream)
      doWait();
    else
      doPoll();
  }
  void doWait() {
    std::weak_ptr<Impl> weak = shared_from_this();
    stream->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [weak](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec) return;  // cancelled: the watch is gone
                         self->onReadable();
                       });
  }
  void onReadable() {
    // Drain the events: their content does not matter, the owner lists the dir.
    alignas(struct inotify_event) char buf[8192];
    while (::read(stream->native_handle(), buf, sizeof buf) > 0) {
    }
    wake();
    doWait();
  }
  void doPoll() {
    std::weak_ptr<Impl> weak = shared_from_this();
    timer->start(every, [weak] {
      auto self = weak.lock();
      if (!self) return;
      self->wake();
      self->doPoll();
    });
  }

  std::string dir;
  std::chrono::milliseconds every;
  std::function<void()> wake;
  std::unique_ptr<Timer> timer;
  std::unique_ptr<boost::asio::posix::stream_descriptor> stream;
};

DirWatch::DirWatch(boost::asio::io_context* io, Clock& clock, std::string dir,
                   std::chrono::milliseconds pollInterval, std::function<void()> wake)
    : impl_(std::make_shared<Impl>(io, clock, std::move(dir), pollInterval, std::move(wake))) {
  impl_->start();
}

DirWatch::~DirWatch() {
  impl_->timer->cancel();
  if (impl_->stream) {
    boost::system::error_code ec;
    impl_->stream->cancel(ec);
    impl_->stream->close(ec);
  }
}

std::string DirWatch::mode() const {
  if (impl_->stream) return "inotify";
  return "polling every " + std::to_string(impl_->every.count() / 1000.0).substr(0, 4) + " s";
}

}  // namespace bb
