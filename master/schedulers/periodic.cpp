#include "master/schedulers/periodic.hpp"

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"

namespace bb {

namespace {
constexpr const char* kLastRunKey = "last_run_ms";

std::int64_t toMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
WallTime fromMs(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }
}  // namespace

PeriodicScheduler::PeriodicScheduler(SchedulerEntry cfg, SchedulerContext ctx)
    : Scheduler(std::move(cfg), ctx), alarm_(ctx_.clock) {
  const auto it = cfg_.extra.find("interval");
  if (it != cfg_.extra.end() && it->is_number_integer() && it->get<std::int64_t>() > 0)
    interval_ = std::chrono::seconds(it->get<std::int64_t>());
}

void PeriodicScheduler::start() {
  if (!interval_) {
    spdlog::error("scheduler {}: periodic needs a positive integer `interval` (seconds); "
                  "it will not build",
                  cfg_.name);
    return;
  }
  const WallTime now = ctx_.clock.wallNow();
  const auto last = ctx_.db.getState(stateObject(), kLastRunKey);
  if (!last || !last->is_number_integer()) {
    fire();  // never ran: build as soon as the master starts
    return;
  }
  // A last run in the future means the wall clock was set back: wait one
  // interval from now rather than until then.
  const WallTime due = std::min(fromMs(last->get<std::int64_t>()), now) + *interval_;
  if (due <= now) {
    spdlog::info("scheduler {}: an interval passed while the master was down; building now",
                 cfg_.name);
    fire();
    return;
  }
  alarm_.at(due, [this] { fire(); });
}

void PeriodicScheduler::stop() { alarm_.cancel(); }

std::optional<WallTime> PeriodicScheduler::nextRun() const {
  if (!alarm_.pending()) return std::nullopt;
  return alarm_.when();
}

void PeriodicScheduler::fire() {
  const WallTime now = ctx_.clock.wallNow();
  try {
    db::SourceStamp ss{"", cfg_.branch.value_or(""), "", "", {}};
    const Json props = schedulerProperties();
    ctx_.db.transaction([&] {
      ctx_.buildsets.create(cfg_.name, "periodic scheduler " + cfg_.name, ss, props,
                            cfg_.builders, cfg_.priority);
      ctx_.db.setState(stateObject(), kLastRunKey, toMs(now));
    });
  } catch (const std::exception& e) {
    // Keep the schedule: the next interval tries again.
    spdlog::error("scheduler {}: could not create the periodic buildset: {}", cfg_.name, e.what());
  }
  alarm_.at(now + *interval_, [this] { fire(); });
}

}  // namespace bb
