#pragma once
// The one io_context a daemon runs on, plus timers behind an interface so
// that time-driven logic (tree-stable timers, cron, ping deadlines) can be
// tested with a ManualClock instead of sleeping.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace bb {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// Wall-clock times as stored (milliseconds since the epoch) and back.
inline std::int64_t toMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline WallTime fromMs(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

// A one-shot timer. start() replaces any pending expiry; cancel() means the
// callback will not run. Destroying the timer cancels it.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void start(std::chrono::milliseconds after, std::function<void()> fn) = 0;
  virtual void cancel() = 0;
  virtual bool pending() const = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime now() const = 0;
  virtual WallTime wallNow() const = 0;
  virtual std::unique_ptr<Timer> makeTimer() = 0;
};

// The wall clock of `c` in milliseconds since the epoch.
inline std::int64_t wallMs(const Clock& c) { return toMs(c.wallNow()); }

// Real time, on an io_context.
class AsioClock : public Clock {
 public:
  explicit AsioClock(boost::asio::io_context& io) : io_(io) {}
  SteadyTime now() const override;
  WallTime wallNow() const override;
  std::unique_ptr<Timer> makeTimer() override;

 private:
  boost::asio::io_context& io_;
};

// Test time: advance() runs due timers in expiry order.
class ManualClock : public Clock {
 public:
  ManualClock();
  ~ManualClock() override;
  SteadyTime now() const override { return now_; }
  WallTime wallNow() const override { return wall_; }
  std::unique_ptr<Timer> makeTimer() override;
  void advance(std::chrono::milliseconds by);
  void setWall(WallTime t) { wall_ = t; }
  struct Entry;

 private:
  SteadyTime now_;
  WallTime wall_;
  std::shared_ptr<std::vector<Entry*>> timers_;
};

// Posts fn to run on io's thread (safe to call from any thread).
void postTo(boost::asio::io_context& io, std::function<void()> fn);

}  // namespace bb
