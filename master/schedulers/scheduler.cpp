#include "master/schedulers/scheduler.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "common/cron.hpp"
#include "master/schedulers/change_filter.hpp"

namespace bb {

Scheduler::Scheduler(SchedulerEntry cfg, SchedulerContext ctx)
    : cfg_(std::move(cfg)), ctx_(ctx), filter_(cfg_.changeFilter) {
  if (!filter_.branch) filter_.branch = cfg_.branch;
}

Scheduler::~Scheduler() {
  for (auto id : subscriptions_) ctx_.buildsets.events().unsubscribe(id);
}

void Scheduler::listen(EventFilter filter, std::function<void(const Event&)> fn) {
  Subscriber s;
  s.name = "scheduler " + cfg_.name;
  s.filter = std::move(filter);
  s.deliver = [this, fn = std::move(fn)](const Event& e) {
    try {
      fn(e);
    } catch (const std::exception& err) {
      fail("handling " + std::string(toString(e.type)) + " " + std::to_string(e.seq), err);
    }
    return true;
  };
  s.maxQueue = 100000;
  s.dropped = [name = cfg_.name](const std::string& why) {
    spdlog::critical("scheduler {} lost its event subscription: {}", name, why);
  };
  subscriptions_.push_back(ctx_.buildsets.events().subscribe(std::move(s)).id);
}

void Scheduler::fail(const std::string& what, const std::exception& e) {
  lastError_ = what + " failed: " + e.what();
  spdlog::error("scheduler {}: {}", cfg_.name, lastError_);
  Json state = Json::object();
  try {
    state = describe();
  } catch (const std::exception&) {
    // The error is what matters here.
  }
  state["error"] = lastError_;
  publishState(std::move(state));
}

void Scheduler::publishState(Json data) {
  Event e;
  e.type = EventType::SchedulerState;
  e.scheduler = cfg_.name;
  e.data = std::move(data);
  ctx_.buildsets.events().publish(std::move(e));
}

std::function<void()> Scheduler::guarded(std::string what, std::function<void()> fn) {
  return [this, what = std::move(what), fn = std::move(fn)] {
    try {
      fn();
    } catch (const std::exception& e) {
      fail(what, e);
    }
  };
}

Json Scheduler::nextFireView(std::optional<WallTime> t, const std::string& tz) {
  if (!t) return Json{{"next_fire_at", nullptr}, {"next_fire_local", nullptr}, {"timezone", tz}};
  return Json{
      {"next_fire_at",
       std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count()},
      {"next_fire_local", formatLocal(*t, tz)},
      {"timezone", tz}};
}

Json Scheduler::heldView(const std::vector<std::int64_t>& ids, std::size_t max) {
  Json out = Json::array();
  for (std::size_t i = 0; i < ids.size() && i < max; ++i) out.push_back(ids[i]);
  return out;
}

std::string Scheduler::waitingReason() const {
  return "tree-stable timer running (" + std::to_string(cfg_.treeStableTimer) + " s)";
}

Json Scheduler::changeState(const db::ChangeRecord& change, const db::ChangeDecision* decision,
                            const BuiltBy&) const {
  if (!decision) {
    return Json{{"state", "ignored"},
                {"reason", subscribesToChanges()
                               ? "not subscribed to change source '" + change.source + "'"
                               : "a " + cfg_.type + " scheduler does not look at changes"}};
  }
  if (decision->decision == "ignored") return Json{{"state", "ignored"}, {"reason", decision->reason}};
  return Json{{"state", "waiting"},
              {"important", decision->decision == "important"},
              {"reason", decision->reason.empty() ? waitingReason() : decision->reason}};
}

void Scheduler::onChange(const db::ChangeRecord& change) {
  std::string whyNot;
  if (!matches(filter_, change, whyNot)) {
    decide(change, "ignored", whyNot);
    return;
  }
  onMatchingChange(change);
}

namespace {
constexpr char kChangeFloorKey[] = "changes_after";
constexpr int kCatchUpBatch = 500;
}  // namespace

bool Scheduler::alreadyClassified(const db::ChangeRecord& change) const {
  return ctx_.db.hasDecision(change.id, cfg_.name);
}

int Scheduler::catchUpChanges() {
  if (!subscribesToChanges()) return 0;
  db::Database& db = ctx_.db;
  const std::optional<Json> stored = db.getState(stateObject(), kChangeFloorKey);
  if (!stored || !stored->is_number_integer()) {
    db.setState(stateObject(), kChangeFloorKey, db.lastChangeId().value_or(0));
    return 0;
  }
  std::int64_t floor = stored->get<std::int64_t>();
  const std::int64_t newest = db.lastChangeId().value_or(0);
  int classified = 0;
  for (std::int64_t after = floor;;) {
    const std::vector<std::int64_t> ids = db.undecidedChangeIds(cfg_.name, after, kCatchUpBatch);
    for (const std::int64_t id : ids) {
      const std::optional<db::ChangeRecord> change = db.getChange(id);
      if (!change || !wantsSource(change->source)) continue;
      db.transaction([&] {
        if (db.hasDecision(id, cfg_.name)) return;  // classified meanwhile
        onChange(*change);
        ++classified;
      });
    }
    if (ids.size() < static_cast<std::size_t>(kCatchUpBatch)) break;
    after = ids.back();
  }
  if (classified > 0)
    spdlog::warn("scheduler {}: caught up on {} change(s) that reached no master running it (accepted "
                 "while its master was dead or not listening)",
                 cfg_.name, classified);
  // Every change up to the previous call's newest is now classified or not
  // wanted: the next scan starts there.
  if (seenThrough_ && *seenThrough_ > floor) db.setState(stateObject(), kChangeFloorKey, *seenThrough_);
  seenThrough_ = newest;
  return classified;
}

void Scheduler::forgetChangeFloor() {
  ctx_.db.deleteState(stateObject(), kChangeFloorKey);
  seenThrough_.reset();
}

bool Scheduler::wantsSource(const std::string& source) const {
  if (cfg_.changeSources.empty()) return true;
  // Sources are named "<type>:<name>" (git_poller:app) or plain ("sendchange").
  const auto colon = source.find(':');
  const std::string name = colon == std::string::npos ? source : source.substr(colon + 1);
  return std::find(cfg_.changeSources.begin(), cfg_.changeSources.end(), name) !=
             cfg_.changeSources.end() ||
         std::find(cfg_.changeSources.begin(), cfg_.changeSources.end(), source) !=
             cfg_.changeSources.end();
}

void Scheduler::decide(const db::ChangeRecord& change, const std::string& decision,
                       const std::string& reason) const {
  ctx_.db.recordDecision({change.id, cfg_.name, decision, reason});
}

bool Scheduler::classifyForTimer(const db::ChangeRecord& change, bool& important) {
  important = isImportant(cfg_.files, change.files);
  if (!important && cfg_.onlyImportant) {
    decide(change, "ignored", "not important: no file passes the files filter (only_important)");
    return false;
  }
  if (cfg_.treeStableTimer <= 0) {
    if (important) {
      decide(change, "important", "");
      submitChanges({change.id}, &change);
    } else {
      decide(change, "ignored", "not important: no file passes the files filter");
    }
    return false;
  }
  decide(change, important ? "important" : "unimportant",
         important ? "" : "no file passes the files filter; built with the next important change");
  return true;
}

Json Scheduler::schedulerProperties() const {
  Json props = Json::object();
  for (auto it = cfg_.properties.begin(); it != cfg_.properties.end(); ++it)
    props[it.key()] = Json::array({it.value(), "Scheduler"});
  return props;
}

namespace {
// The change `id`: `known` if it is that one, otherwise read.
std::optional<db::ChangeRecord> changeRecord(db::Database& db, std::int64_t id, const db::ChangeRecord* known) {
  if (known && known->id == id) return *known;
  return db.getChange(id);
}
}  // namespace

void Scheduler::mergeChangeProperties(const std::vector<std::int64_t>& changeIds, Json& props,
                                      const db::ChangeRecord* known) const {
  std::vector<std::int64_t> ids = changeIds;
  std::sort(ids.begin(), ids.end());
  for (std::int64_t id : ids) {
    auto c = changeRecord(ctx_.db, id, known);
    if (!c || !c->properties.is_object()) continue;
    for (auto it = c->properties.begin(); it != c->properties.end(); ++it)
      props[it.key()] = Json::array({it.value(), "Change"});
  }
}

std::optional<db::SourceStamp> Scheduler::sourceStampFor(const std::vector<std::int64_t>& changeIds,
                                                         const db::ChangeRecord* known) const {
  if (changeIds.empty()) return std::nullopt;
  const std::int64_t newest = *std::max_element(changeIds.begin(), changeIds.end());
  auto c = changeRecord(ctx_.db, newest, known);
  if (!c) {
    spdlog::error("scheduler {}: change {} vanished from the database", cfg_.name, newest);
    return std::nullopt;
  }
  return db::SourceStamp{c->repository, c->branch, c->revision, c->project, changeIds, nullptr};
}

void Scheduler::submitChanges(const std::vector<std::int64_t>& changeIds, const db::ChangeRecord* known) {
  auto ss = sourceStampFor(changeIds, known);
  if (!ss) return;
  const std::int64_t newest = *std::max_element(changeIds.begin(), changeIds.end());
  const std::string reason = changeIds.size() == 1
                                 ? "change " + std::to_string(newest) + " on " + ss->branch
                                 : std::to_string(changeIds.size()) + " changes on " + ss->branch;
  Json props = schedulerProperties();
  mergeChangeProperties(changeIds, props, known);
  ctx_.buildsets.create(cfg_.name, "scheduler " + cfg_.name + ": " + reason, *ss, props,
                        cfg_.builders, cfg_.priority);
}

namespace {
constexpr char kPendingPrefix[] = "pending-change:";
}  // namespace

void Scheduler::storePendingChange(std::int64_t changeId, const Json& info) {
  ctx_.db.setState(stateObject(), kPendingPrefix + std::to_string(changeId), info);
}

void Scheduler::dropPendingChanges(const std::vector<std::int64_t>& changeIds) {
  for (std::int64_t id : changeIds)
    ctx_.db.deleteState(stateObject(), kPendingPrefix + std::to_string(id));
}

bool Scheduler::runsOnOneMasterForTimer() const {
  if (cfg_.treeStableTimer > 0) return true;
  if (!holdsStoredChanges_) {
    try {
      holdsStoredChanges_ = !storedPendingChanges().empty();
    } catch (const std::exception& e) {
      // Unknown: one master is always safe (never two builds of a change).
      spdlog::warn("scheduler {}: cannot read its held changes ({}); running it on one master", cfg_.name,
                   e.what());
      holdsStoredChanges_ = true;
    }
  }
  return *holdsStoredChanges_;
}

std::vector<std::pair<std::int64_t, Json>> Scheduler::storedPendingChanges() const {
  std::vector<std::pair<std::int64_t, Json>> out;
  const std::string prefix = kPendingPrefix;
  for (auto& [key, value] : ctx_.db.statesWithPrefix(stateObject(), prefix)) {
    try {
      out.emplace_back(std::stoll(key.substr(prefix.size())), std::move(value));
    } catch (const std::exception&) {
      spdlog::error("scheduler {}: ignoring malformed state key '{}'", cfg_.name, key);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace bb
