#include "master/schedulers/periodic.hpp"

#include <spdlog/spdlog.h>

#include "config/yaml_util.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

namespace {
constexpr const char* kLastRunKey = "last_run_ms";

// The first run planned after `planned` that is later than `now`. Runs are
// planned `interval` apart from the first, however late each one actually
// fired, so the schedule does not drift; slots that passed already (a
// suspended host, a slow loop) are skipped: it has just built.
WallTime slotAfter(WallTime planned, std::chrono::seconds interval, WallTime now) {
  WallTime next = planned + interval;
  if (next <= now) next += ((now - next) / interval + 1) * interval;
  return next;
}

// The latest run planned from `base` every `interval` at or before `now`.
WallTime latestSlot(WallTime base, std::chrono::seconds interval, WallTime now) {
  return base + (now - base) / interval * interval;
}

// When a scheduler starting at `now` builds first: at once (buildNow, for
// the slot `planned`), or at `planned`.
struct StartPlan {
  bool buildNow;
  WallTime planned;
};
StartPlan startPlan(std::chrono::seconds interval, std::optional<WallTime> lastRun, WallTime now) {
  if (!lastRun) return {true, now};  // never ran: build as soon as the master starts
  // A last run in the future means the wall clock was set back: wait one
  // interval from now rather than until then.
  const WallTime due = std::min(*lastRun, now) + interval;
  // One or more intervals passed while the master was down: build once now,
  // for the latest slot that passed, so the phase is kept.
  if (due <= now) return {true, latestSlot(due, interval, now)};
  return {false, due};
}

}  // namespace

void PeriodicScheduler::declareType(SchedulerType& t) {
  t.config.keys = {"interval"};
  t.config.check = [](const cfg::MapReader& r, cfg::MasterParse&, SchedulerEntry&) {
    return r.integer("interval", 1, cfg::kNoMax, true).has_value();
  };
  t.nextFires = [](const SchedulerEntry& s, WallTime from, int n, const LastRunLookup& lastRun) {
    const auto interval = intervalOf(s);
    if (!interval) return std::string();  // checkconfig reported it
    const auto last = lastRun ? lastRun(s.name) : std::nullopt;
    std::string out = "  periodic '" + s.name + "' (every " + std::to_string(interval->count()) +
                      " s, " +
                      (last ? "last run " + fireTimeText(*last, "UTC") : std::string("no run recorded")) +
                      "):\n";
    for (WallTime t : plannedRuns(*interval, last, from, n))
      out += "    " + fireTimeText(t, "UTC") + (t == from ? " (at start)" : "") + "\n";
    return out;
  };
}

PeriodicScheduler::PeriodicScheduler(SchedulerEntry cfg, SchedulerContext ctx)
    : Scheduler(std::move(cfg), ctx), alarm_(ctx_.clock), interval_(intervalOf(cfg_)) {}

void PeriodicScheduler::start() {
  if (!interval_) {
    spdlog::error("scheduler {}: periodic needs a positive integer `interval` (seconds); "
                  "it will not build",
                  cfg_.name);
    return;
  }
  const WallTime now = ctx_.clock.wallNow();
  const auto last = storedLastRun(ctx_.db, cfg_.name);
  const StartPlan plan = startPlan(*interval_, last, now);
  if (!plan.buildNow) {
    arm(plan.planned);
    return;
  }
  if (last)
    spdlog::info("scheduler {}: an interval passed while the master was down; building now",
                 cfg_.name);
  fire(plan.planned);
}

std::optional<WallTime> PeriodicScheduler::storedLastRun(db::Database& db, const std::string& name) {
  const auto last = db.getState("scheduler:" + name, kLastRunKey);
  if (!last || !last->is_number_integer()) return std::nullopt;
  return fromMs(last->get<std::int64_t>());
}

std::optional<std::chrono::seconds> PeriodicScheduler::intervalOf(const SchedulerEntry& cfg) {
  const auto it = cfg.extra.find("interval");
  if (it != cfg.extra.end() && it->is_number_integer() && it->get<std::int64_t>() > 0)
    return std::chrono::seconds(it->get<std::int64_t>());
  return std::nullopt;
}

std::vector<WallTime> PeriodicScheduler::plannedRuns(std::chrono::seconds interval,
                                                     std::optional<WallTime> lastRun,
                                                     WallTime from, int n) {
  std::vector<WallTime> runs;
  if (n <= 0) return runs;
  const StartPlan plan = startPlan(interval, lastRun, from);
  WallTime planned = plan.planned;
  if (plan.buildNow) {
    runs.push_back(from);
    planned = slotAfter(plan.planned, interval, from);
  }
  while (static_cast<int>(runs.size()) < n) {
    runs.push_back(planned);
    planned += interval;
  }
  return runs;
}

void PeriodicScheduler::stop() { alarm_.cancel(); }

std::optional<WallTime> PeriodicScheduler::nextRun() const {
  if (!alarm_.pending()) return std::nullopt;
  return alarm_.when();
}

void PeriodicScheduler::fire(WallTime planned) {
  const WallTime now = ctx_.clock.wallNow();
  try {
    db::SourceStamp ss{"", cfg_.branch.value_or(""), "", "", {}, nullptr};
    const Json props = schedulerProperties();
    ctx_.db.transaction([&] {
      ctx_.buildsets.create(cfg_.name, "periodic scheduler " + cfg_.name, ss, props,
                            cfg_.builders, cfg_.priority);
      // The planned time, not `now`: a restart keeps the same phase.
      ctx_.db.setState(stateObject(), kLastRunKey, toMs(planned));
    });
  } catch (const std::exception& e) {
    // Keep the schedule: the next interval tries again.
    fail("creating the periodic buildset", e);
  }
  arm(slotAfter(planned, *interval_, now));
}

void PeriodicScheduler::arm(WallTime planned) {
  alarm_.at(planned, guarded("the periodic alarm", [this, planned] { fire(planned); }));
  publishState(nextFireView(planned, "UTC"));
}

Json PeriodicScheduler::describe() const {
  Json out = nextFireView(nextRun(), "UTC");
  out["interval"] = interval_ ? Json(interval_->count()) : Json();
  return out;
}

}  // namespace bb
