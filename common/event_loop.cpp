#include "common/event_loop.hpp"

#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace bb {

namespace {

class AsioTimer : public Timer {
 public:
  explicit AsioTimer(boost::asio::io_context& io) : timer_(io) {}
  ~AsioTimer() override { cancel(); }
  void start(std::chrono::milliseconds after, std::function<void()> fn) override {
    cancel();
    auto gen = ++generation_;
    pending_ = true;
    timer_.expires_after(after);
    // The generation check makes a cancel-then-restart race harmless: a
    // stale completion that was already queued does nothing.
    timer_.async_wait([this, gen, fn = std::move(fn), alive = alive_](
                          const boost::system::error_code& ec) {
      if (ec || !*alive || gen != generation_) return;
      pending_ = false;
      fn();
    });
  }
  void cancel() override {
    ++generation_;
    pending_ = false;
    timer_.cancel();
  }
  bool pending() const override { return pending_; }

 private:
  boost::asio::steady_timer timer_;
  std::uint64_t generation_ = 0;
  bool pending_ = false;
  // Completions can run after the timer is destroyed (cancel only queues
  // them); they check this flag before touching `this`.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  // Mark dead before members go away.
  struct Guard {
    std::shared_ptr<bool> a;
    ~Guard() { *a = false; }
  } guard_{alive_};
};

}  // namespace

SteadyTime AsioClock::now() const { return std::chrono::steady_clock::now(); }
WallTime AsioClock::wallNow() const { return std::chrono::system_clock::now(); }
std::unique_ptr<Timer> AsioClock::makeTimer() { return std::make_unique<AsioTimer>(io_); }

struct ManualClock::Entry {
  SteadyTime due;
  std::uint64_t seq = 0;
  std::function<void()> fn;
  bool armed = false;
};

namespace {
class ManualTimer : public Timer {
 public:
  ManualTimer(ManualClock& clock, std::shared_ptr<std::vector<ManualClock::Entry*>> list)
      : clock_(clock), list_(std::move(list)) {
    list_->push_back(&entry_);
  }
  ~ManualTimer() override {
    auto& v = *list_;
    v.erase(std::remove(v.begin(), v.end(), &entry_), v.end());
  }
  void start(std::chrono::milliseconds after, std::function<void()> fn) override {
    static std::uint64_t seq = 0;
    entry_.due = clock_.now() + after;
    entry_.seq = ++seq;
    entry_.fn = std::move(fn);
    entry_.armed = true;
  }
  void cancel() override { entry_.armed = false; }
  bool pending() const override { return entry_.armed; }

 private:
  ManualClock& clock_;
  std::shared_ptr<std::vector<ManualClock::Entry*>> list_;
  ManualClock::Entry entry_;
};
}  // namespace

ManualClock::ManualClock()
    : now_(SteadyTime{} + std::chrono::hours(1)),
      wall_(std::chrono::system_clock::from_time_t(1700000000)),
      timers_(std::make_shared<std::vector<Entry*>>()) {}

ManualClock::~ManualClock() = default;

std::unique_ptr<Timer> ManualClock::makeTimer() {
  return std::make_unique<ManualTimer>(*this, timers_);
}

void ManualClock::advance(std::chrono::milliseconds by) {
  const SteadyTime target = now_ + by;
  for (;;) {
    // Earliest armed timer due by the target; callbacks may arm or destroy
    // timers, so search afresh each time.
    Entry* next = nullptr;
    for (Entry* e : *timers_)
      if (e->armed && e->due <= target &&
          (!next || e->due < next->due || (e->due == next->due && e->seq < next->seq)))
        next = e;
    if (!next) break;
    const auto step = next->due - now_;
    if (step.count() > 0) {
      now_ = next->due;
      wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(step);
    }
    next->armed = false;
    auto fn = std::move(next->fn);
    fn();
  }
  const auto rest = target - now_;
  if (rest.count() > 0) {
    now_ = target;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(rest);
  }
}

void postTo(boost::asio::io_context& io, std::function<void()> fn) {
  boost::asio::post(io, std::move(fn));
}

}  // namespace bb
