#include "master/schedulers/nightly.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "config/yaml_util.hpp"
#include "master/schedulers/change_filter.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

namespace {
// The time after which the next scheduled slot counts: the last fire, or
// the first start. A slot between it and now was missed.
constexpr const char* kFromKey = "schedule_from_ms";
constexpr const char* kPendingKey = "pending";
// The cron and time zone the stored schedule_from belongs to.
constexpr const char* kScheduleKey = "schedule";


struct Parsed {
  CronSchedule cron;
  std::string timezone;
  bool onlyIfChanged;
};

Parsed parseConfig(const SchedulerEntry& cfg) {
  const auto cron = cfg.extra.find("cron");
  if (cron == cfg.extra.end() || !cron->is_string())
    throw CronError("nightly needs `cron`, a 5-field cron string such as \"0 3 * * *\"");
  Parsed p{CronSchedule::parse(cron->get<std::string>()), "UTC", false};
  if (auto tz = cfg.extra.find("timezone"); tz != cfg.extra.end()) {
    if (!tz->is_string()) throw CronError("timezone must be a string such as \"Europe/Paris\"");
    p.timezone = tz->get<std::string>();
  }
  checkTimeZone(p.timezone);
  if (auto o = cfg.extra.find("only_if_changed"); o != cfg.extra.end()) {
    if (!o->is_boolean()) throw CronError("only_if_changed must be true or false");
    p.onlyIfChanged = o->get<bool>();
  }
  return p;
}
// Checks cron, timezone and only_if_changed with the scheduler's own
// parser, so checkconfig reports every mistake the master would, with
// line:column.
bool checkKeys(const cfg::MapReader& r, cfg::MasterParse&, SchedulerEntry&) {
  auto cron = r.string("cron", true);
  if (!cron) return false;
  bool ok = true;
  try {
    (void)CronSchedule::parse(*cron);
  } catch (const CronError& e) {
    r.error(r.markOf("cron"), e.what());
    ok = false;
  }
  if (r.has("only_if_changed") && !r.boolean("only_if_changed")) ok = false;
  if (r.has("timezone")) {
    auto tz = r.string("timezone");
    if (!tz) {
      ok = false;
    } else {
      try {
        checkTimeZone(*tz);
      } catch (const CronError& e) {
        r.error(r.markOf("timezone"), e.what());
        ok = false;
      }
    }
  }
  return ok;
}

bool onlyIfChanged(const SchedulerEntry& s) {
  const auto it = s.extra.find("only_if_changed");
  return it != s.extra.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

void NightlyScheduler::declareType(SchedulerType& t) {
  t.config.keys = {"cron", "only_if_changed", "timezone"};
  t.config.listensToChanges = onlyIfChanged;
  t.config.listensWhen = "with only_if_changed: true";
  t.config.check = checkKeys;
  t.check = [](const SchedulerEntry& e) -> std::string {
    try {
      validate(e);
    } catch (const std::exception& err) {
      return "scheduler '" + e.name + "': " + err.what();
    }
    return "";
  };
  t.nextFires = [](const SchedulerEntry& s, WallTime from, int n, const LastRunLookup&) {
    const std::string tz = timeZoneOf(s);
    std::string out = "  nightly '" + s.name + "' (cron \"" +
                      s.extra.value("cron", std::string()) + "\", " + tz + "):\n";
    try {
      for (WallTime t : fireTimes(s, from, n)) out += "    " + fireTimeText(t, tz) + "\n";
    } catch (const CronError& e) {
      out += "    never: " + std::string(e.what()) + "\n";
    }
    return out;
  };
}

NightlyScheduler::NightlyScheduler(SchedulerEntry cfg, SchedulerContext ctx)
    : Scheduler(std::move(cfg), ctx), alarm_(ctx_.clock) {
  try {
    auto p = parseConfig(cfg_);
    cron_ = std::move(p.cron);
    timezone_ = p.timezone;
    onlyIfChanged_ = p.onlyIfChanged;
  } catch (const CronError& e) {
    configError_ = e.what();
  }
}

void NightlyScheduler::validate(const SchedulerEntry& cfg) { parseConfig(cfg); }

std::vector<WallTime> NightlyScheduler::fireTimes(const SchedulerEntry& cfg, WallTime from,
                                                  int n) {
  const Parsed p = parseConfig(cfg);
  std::vector<WallTime> out;
  for (int i = 0; i < n; ++i) out.push_back(from = p.cron.next(from, p.timezone));
  return out;
}

std::string NightlyScheduler::timeZoneOf(const SchedulerEntry& cfg) {
  const auto tz = cfg.extra.find("timezone");
  return tz != cfg.extra.end() && tz->is_string() ? tz->get<std::string>() : "UTC";
}

void NightlyScheduler::onMatchingChange(const db::ChangeRecord& change) {
  if (!onlyIfChanged_) return;
  const bool important = isImportant(cfg_.files, change.files);
  if (!important && cfg_.onlyImportant) {
    decide(change, "ignored", "not important: no file passes the files filter (only_important)");
    return;
  }
  decide(change, important ? "important" : "unimportant",
         important ? "built at the next scheduled time"
                   : "not important: built with the next scheduled build, which needs an "
                     "important change");
  pending_.push_back(change.id);
  storePendingChange(change.id, Json::object());
  pendingImportant_ = pendingImportant_ || important;
  save();  // inside the change's transaction (see ChangeBus)
  publishState(Json{{"held_change", change.id}, {"held_count", pending_.size()}});
}

void NightlyScheduler::start() {
  if (!cron_) {
    spdlog::error("scheduler {}: {}; it will not build", cfg_.name, configError_);
    return;
  }
  load();
  const WallTime now = ctx_.clock.wallNow();
  const auto from = ctx_.db.getState(stateObject(), kFromKey);
  const Json schedule{{"cron", cron_->expression()}, {"timezone", timezone_}};
  if (!from || !from->is_number_integer() ||
      ctx_.db.getState(stateObject(), kScheduleKey) != schedule) {
    // First start, or a reconfig changed the schedule: slots count from now
    // on (a new earlier time of day is not a "missed" one).
    ctx_.db.transaction([&] {
      ctx_.db.setState(stateObject(), kFromKey, toMs(now));
      ctx_.db.setState(stateObject(), kScheduleKey, schedule);
    });
    armNext(now);
    return;
  }
  try {
    if (cron_->next(fromMs(from->get<std::int64_t>()), timezone_) <= now) {
      spdlog::info("scheduler {}: a scheduled time passed while the master was down; firing now",
                   cfg_.name);
      fire();
    }
  } catch (const CronError& e) {
    spdlog::error("scheduler {}: {}", cfg_.name, e.what());
  }
  armNext(now);
}

void NightlyScheduler::stop() { alarm_.cancel(); }

Json NightlyScheduler::describe() const {
  Json out = nextFireView(nextFire(), timezone_);
  out["cron"] = cron_ ? cron_->expression() : cfg_.extra.value("cron", std::string());
  out["only_if_changed"] = onlyIfChanged_;
  out["held_changes"] = heldView(pending_);
  out["held_count"] = pending_.size();
  out["important"] = pendingImportant_;
  if (!configError_.empty()) out["config_error"] = configError_;
  return out;
}

std::optional<WallTime> NightlyScheduler::nextFire() const {
  if (!alarm_.pending()) return std::nullopt;
  return alarm_.when();
}

void NightlyScheduler::armNext(WallTime after) {
  try {
    alarm_.at(cron_->next(after, timezone_), guarded("the nightly alarm", [this] { onAlarm(); }));
  } catch (const CronError& e) {
    fail("planning the next run (it will not build)", e);
    return;
  }
  // Armed (at start, or after a run, which released what it built).
  Json state = nextFireView(alarm_.when(), timezone_);
  state["held_count"] = pending_.size();
  publishState(std::move(state));
}

std::string NightlyScheduler::slotText(WallTime slot) const {
  try {
    return formatLocal(slot, timezone_);
  } catch (const CronError&) {
    return std::to_string(toMs(slot) / 1000) + " (seconds since the epoch)";
  }
}

void NightlyScheduler::onAlarm() {
  const WallTime slot = alarm_.when();
  const auto late = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock.wallNow() - slot);
  if (late > std::chrono::seconds(5)) {
    // Timers wait on the steady clock; a wall clock set forward or a
    // suspended host shows up as a late slot. Say so: the build is late.
    spdlog::warn("scheduler {}: the {} slot fires {} s late (the wall clock jumped, or the host "
                 "or the master was suspended)",
                 cfg_.name, slotText(slot), late.count());
  }
  fire();
  // Late by more than a slot (a suspended host, a clock set forward)?
  // Those slots are skipped: it has just built.
  armNext(std::max(slot, ctx_.clock.wallNow()));
}

void NightlyScheduler::fire() {
  const WallTime now = ctx_.clock.wallNow();
  try {
    ctx_.db.transaction([&] {
      const bool build = !onlyIfChanged_ || (pendingImportant_ && !pending_.empty());
      if (build) {
        db::SourceStamp ss{"", cfg_.branch.value_or(""), "", "", {}, nullptr};
        std::string reason = "nightly scheduler " + cfg_.name;
        Json props = schedulerProperties();
        if (onlyIfChanged_) {
          // The source stamp is that of the newest change.
          if (auto found = sourceStampFor(pending_)) ss = *found;
          else ss.changeIds = pending_;
          mergeChangeProperties(pending_, props);
          reason += ": " + std::to_string(pending_.size()) + " change(s) since the last build";
        } else if (!pending_.empty()) {
          // Held while it had only_if_changed (a reconfig turned it off):
          // this build of the branch takes them, so none waits forever.
          ss.changeIds = pending_;
        }
        ctx_.buildsets.create(cfg_.name, reason, ss, props, cfg_.builders, cfg_.priority);
        // The build took every held change.
        dropPendingChanges(pending_);
        pending_.clear();
        pendingImportant_ = false;
        save();
      } else {
        // Unimportant changes stay held until a build takes them (as in
        // Buildbot): change-status keeps saying they wait, and they are in
        // the next build.
        spdlog::info("scheduler {}: no important change since the last build; not building{}",
                     cfg_.name,
                     pending_.empty() ? std::string()
                                      : "; " + std::to_string(pending_.size()) +
                                            " unimportant change(s) stay held");
      }
      ctx_.db.setState(stateObject(), kFromKey, toMs(now));
    });
  } catch (const std::exception& e) {
    // The changes stay recorded in the database; reload them so the next
    // fire sees what the rolled-back transaction did not consume.
    fail("creating the nightly buildset", e);
    try {
      load();
    } catch (const std::exception& e2) {
      fail("reloading its state", e2);
    }
  }
}

void NightlyScheduler::load() {
  pending_.clear();
  pendingImportant_ = false;
  // Each held change has a row (older list-style state is moved to rows by
  // the schema upgrade to version 4).
  for (const auto& [id, info] : storedPendingChanges()) pending_.push_back(id);
  const auto st = ctx_.db.getState(stateObject(), kPendingKey);
  if (st && st->is_object()) pendingImportant_ = st->value("important", false);
}

// Whether an important change is held; the changes have a row each.
void NightlyScheduler::save() {
  ctx_.db.setState(stateObject(), kPendingKey, Json{{"important", pendingImportant_}});
}

}  // namespace bb
