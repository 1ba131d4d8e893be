#include "master/process/distributor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/buildsets/buildset_service.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/locks/lock_manager.hpp"
#include "master/process/build.hpp"
#include "master/slaves/slave_registry.hpp"

namespace bb {

BuildRequestDistributor::BuildRequestDistributor(db::Database& db, db::MasterId master,
                                                 Clock& clock, SlaveRegistry& slaves, Post post,
                                                 BuildsetService& buildsets)
    : db_(db),
      master_(master),
      clock_(clock),
      slaves_(slaves),
      post_(std::move(post)),
      buildsets_(buildsets) {
  Subscriber s;
  s.name = "distributor";
  s.filter.types = {EventType::RequestCreated, EventType::RequestPriority,
                    EventType::RequestUnclaimed, EventType::SlaveAttached,
                    EventType::SlaveBackedOff, EventType::LockReleased};
  s.maxQueue = 1000000;  // it only sets a flag per event
  s.deliver = [this](const Event&) {
    wake();
    return true;
  };
  s.dropped = [](const std::string& why) {
    spdlog::critical("the distributor lost its event subscription ({}); builds start only on "
                     "build end and reconfig until the master restarts",
                     why);
  };
  subscription_ = buildsets_.events().subscribe(std::move(s)).id;
}

BuildRequestDistributor::~BuildRequestDistributor() { buildsets_.events().unsubscribe(subscription_); }

void BuildRequestDistributor::configure(const MasterConfig& config) {
  builders_.clear();
  for (const auto& b : config.builders) builders_[b.name] = b;
  masterName_ = config.master.name;
  pingTimeout_ = config.master.pingTimeout;
  maxRetries_ = config.master.maxRetries;
  anyBuildLocks_ = std::any_of(config.builders.begin(), config.builders.end(),
                               [](const BuilderEntry& b) { return !b.locks.empty(); });
  masterScopedLocks_.clear();
  for (const auto& l : config.locks)
    if (l.scope == "master") masterScopedLocks_.insert(l.name);
}

void BuildRequestDistributor::setLocks(LockManager* locks) {
  locks_ = locks;
  admission_ = locks ? std::make_unique<LockAdmission>(*locks) : nullptr;
  if (admission_) admission_->setShared(sharedPlans_);
}

void BuildRequestDistributor::shareLockPlans(SharedLockPlans* plans) {
  sharedPlans_ = plans;
  if (admission_) admission_->setShared(plans);
}

BuildLockPlan BuildRequestDistributor::planFor(const BuilderEntry& b, const std::string& slave) const {
  return BuildLockPlan{"a build of " + b.name, slave, b.locks, stepLocksOf(b)};
}

bool BuildRequestDistributor::contendsWithBlocked(const BuilderEntry& b,
                                                  const std::vector<BuildLockPlan>& blocked) const {
  if (!admission_ || blocked.empty()) return false;
  const BuildLockPlan mine = planFor(b, "");
  return std::any_of(blocked.begin(), blocked.end(),
                     [&](const BuildLockPlan& p) { return admission_->contends(p, mine); });
}

void BuildRequestDistributor::wake() {
  if (woken_ || stopped_) return;
  woken_ = true;
  post_([this] {
    woken_ = false;
    try {
      distribute();
    } catch (const std::exception& e) {
      // A pass that failed (the database refused a read) changed nothing:
      // requests stay pending, slots taken for pings are freed by their
      // callbacks. The next event or build end tries again.
      spdlog::error("distributing build requests failed: {}", e.what());
    }
  });
}

void BuildRequestDistributor::stopStartingBuilds() {
  if (!stopped_)
    spdlog::info("distributor: {} pass(es) read the queue ({} page(s)), {} request(s) claimed, {} lost to "
                 "another master",
                 counts_.passes, counts_.pages, counts_.claimed, counts_.lost);
  stopped_ = true;
  // Requests claimed for a ping go back now, not when the ping is
  // answered: the connections may close first, and with several masters
  // another one builds them meanwhile (giving one back twice is harmless).
  for (const auto& [id, req] : pinging_) giveBack(req, "the master is stopping");
}

void BuildRequestDistributor::distribute() {
  if (stopped_) return;
  // Requests a failed write left claimed by this master go back first.
  if (!unclaimLater_.empty()) {
    auto later = unclaimLater_;
    for (const auto& [id, back] : later) giveBack(back.first, back.second);
  }
  // Cheap check first: with no free slave anywhere there is nothing to do,
  // and the database is not touched.
  if (!anySlaveFree()) return;
  // Several masters: the builds the others run count for the deadlock rule
  // too (read once a pass; admitting a build reads them again, in turn).
  if (admission_ && admission_->shared() && anyBuildLocks_) {
    try {
      admission_->refreshOthers();
    } catch (const std::exception& e) {
      spdlog::warn("reading the other masters' lock plans failed ({}); the deadlock rule uses the ones "
                   "read before",
                   e.what());
    }
  }

  // FIFO for build locks, before the builds exist: a request that has a
  // free slave but cannot have its build locks now (or is being pinged)
  // keeps later requests that want one of the same master-scoped locks,
  // either of them exclusively, from starting. Otherwise a waiting
  // exclusive build would be starved by a stream of counting ones, each
  // taking the lock as soon as another counting build released it.
  // The same holds for a request held back by the deadlock rule
  // (LockAdmission): later requests that could keep it waiting (their
  // build locks are its step locks or the other way round) wait behind it,
  // or a stream of them would keep it from ever starting.
  std::vector<LockAccess> reserved;
  std::vector<BuildLockPlan> blocked;
  // Requests being pinged are claimed (out of the queue) but ahead of
  // every one in it: their build locks are reserved first.
  for (const auto& [id, req] : pinging_)
    if (auto bit = builders_.find(req.builder); bit != builders_.end()) reserve(bit->second.locks, reserved);
  //
  // The queue is read a page at a time, in order, until no slave is free:
  // with a long backlog a pass reads the few requests it can place, not
  // every pending row (with several masters every master's pass would).
  std::vector<db::BuildRequestRecord> page = db_.pendingRequestsPage(nullptr, kPageSize);
  ++counts_.passes;
  ++counts_.pages;
  for (;;) {
    for (const auto& req : page) {
      if (running_.count(req.id)) continue;
      auto bit = builders_.find(req.builder);
      if (bit == builders_.end()) continue;  // builder removed by reconfig: stays pending
      const BuilderEntry& b = bit->second;
      // Claimed here and being pinged: pending again only if another
      // master took this one's claims meanwhile; never pinged twice.
      if (pinging_.count(req.id)) continue;
      if (conflictsWithReserved(b.locks, reserved) || contendsWithBlocked(b, blocked)) continue;
      auto slave = slaves_.pickFree(b.slaves, locksFree(b));
      if (!slave) {
        if (locks_ && !b.locks.empty() && slaves_.pickFree(b.slaves)) {
          reserve(b.locks, reserved);
          blocked.push_back(planFor(b, ""));
        }
        continue;
      }
      switch (claimThenPing(req, slave)) {
        case Attempt::Pinging:
          reserve(b.locks, reserved);  // until its build takes them, a moment later
          break;
        case Attempt::Refused:
          reserve(b.locks, reserved);
          blocked.push_back(planFor(b, ""));
          break;
        case Attempt::Lost:
          break;  // another master's now; the slave stays free for the next one
      }
    }
    // Past this point nothing could start: every slave is taken.
    if (page.size() < static_cast<std::size_t>(kPageSize) || !anySlaveFree()) return;
    const db::BuildRequestRecord last = page.back();
    page = db_.pendingRequestsPage(&last, kPageSize);
    ++counts_.pages;
  }
}

bool BuildRequestDistributor::anySlaveFree() const {
  for (const auto& [name, b] : builders_)
    if (slaves_.pickFree(b.slaves, locksFree(b))) return true;
  return false;
}

void BuildRequestDistributor::reserve(const std::vector<LockAccess>& wanted,
                                      std::vector<LockAccess>& reserved) const {
  for (const auto& w : wanted)
    if (masterScopedLocks_.count(w.lock)) reserved.push_back(w);
}

bool BuildRequestDistributor::conflictsWithReserved(const std::vector<LockAccess>& wanted,
                                                    const std::vector<LockAccess>& reserved) const {
  for (const auto& w : wanted)
    for (const auto& r : reserved)
      if (w.lock == r.lock && (parseLockMode(w.access, w.lock) == LockMode::Exclusive ||
                               parseLockMode(r.access, r.lock) == LockMode::Exclusive))
        return true;
  return false;
}

std::function<bool(const std::string&)> BuildRequestDistributor::locksFree(
    const BuilderEntry& b) const {
  if (!locks_) return {};
  // A build does not start on a slave whose build locks cannot be had now,
  // nor where it could deadlock with the running builds (LockAdmission).
  const bool hasStepLocks = !stepLocksOf(b).empty();
  if (b.locks.empty() && !hasStepLocks) return {};
  return [this, &b](const std::string& slave) {
    try {
      if (!locks_->canAcquireNow(b.locks, slave)) return false;
    } catch (const std::exception&) {
      return true;  // an unknown lock fails the build with a clear message
    }
    return admission_->whyNot(planFor(b, slave)).empty();
  };
}

BuildRequestDistributor::Attempt BuildRequestDistributor::claimThenPing(
    const db::BuildRequestRecord& req, std::shared_ptr<RemoteSlave> slave) {
  auto bit = builders_.find(req.builder);
  if (bit == builders_.end()) return Attempt::Lost;
  // From here on, the build counts for the deadlock rule. With several
  // masters the rule is asked again here, in turn with the others, and may
  // say no (another master admitted a crossing build meanwhile): the
  // request then stays pending, woken when their builds end.
  if (admission_) {
    bool admitted = false;
    try {
      admitted = admission_->admit(req.id, planFor(bit->second, slave->name()));
    } catch (const std::exception& e) {
      spdlog::warn("request {}: storing its lock plan for the other masters failed ({}); it waits", req.id,
                   e.what());
    }
    if (!admitted) return Attempt::Refused;
  }
  // Claimed first, with one conditional UPDATE, and only then pinged: of
  // several masters that want the request exactly one pings a slave for
  // it, and the others go on to the next request of the pass with their
  // slave still free (no ping, no second read of the queue).
  bool claimed = false;
  try {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         clock_.wallNow().time_since_epoch()).count();
    claimed = db_.transaction([&] {
      if (!db_.claimRequest(req.id, master_, now)) return false;  // another master's, or cancelled
      Event e;
      e.type = EventType::RequestClaimed;
      e.requestId = req.id;
      e.buildsetId = req.buildsetId;
      e.builder = req.builder;
      e.slave = slave->name();
      buildsets_.events().publish(std::move(e));
      return true;
    });
  } catch (...) {
    if (admission_) admission_->remove(req.id);
    throw;  // the pass ends; nothing is taken
  }
  if (!claimed) {
    if (admission_) admission_->remove(req.id);
    ++counts_.lost;
    return Attempt::Lost;
  }
  ++counts_.claimed;
  // The slave's slot is taken while it is pinged, so no other build can
  // have it meanwhile; a failed ping gives the request back to the queue,
  // at the place it had.
  pinging_[req.id] = req;
  slaves_.buildStarted(slave->name());
  slave->ping(pingTimeout_, [this, req, slave](bool alive) {
    pinging_.erase(req.id);
    auto release = [&](const std::string& why) {
      if (admission_) admission_->remove(req.id);
      giveBack(req, slave->name() + ": " + why);
      slaves_.buildFinished(slave->name());
      wake();
    };
    if (!alive) {
      release("no answer to the ping");
      slaves_.pingFailed(slave->name());
      return;
    }
    slaves_.pingSucceeded(slave->name());
    auto bit = builders_.find(req.builder);
    // A slave that asked to shut down while it was pinged gets no build:
    // the request goes back for another slave.
    if (stopped_ || bit == builders_.end() || !slave->connected() || slave->draining()) {
      release(stopped_ ? "the master is stopping"
              : bit == builders_.end() ? "builder removed by reconfig"
              : !slave->connected() ? "disconnected" : "draining");
      return;
    }
    try {
      startBuild(bit->second, req, slave);
    } catch (const std::exception& e) {
      spdlog::error("starting a build for request {} failed: {}", req.id, e.what());
      if (!running_.count(req.id)) release(std::string("the build could not start: ") + e.what());
    }
  });
  return Attempt::Pinging;
}

void BuildRequestDistributor::giveBack(const db::BuildRequestRecord& req, const std::string& why) {
  try {
    db_.transaction([&] {
      if (!db_.giveBackRequest(req.id, master_)) return;  // not this master's claim (any more)
      Event e;
      e.type = EventType::RequestUnclaimed;
      e.requestId = req.id;
      e.buildsetId = req.buildsetId;
      e.builder = req.builder;
      e.data = Json{{"retry", false}, {"why", why}};
      buildsets_.events().publish(std::move(e));
    });
    unclaimLater_.erase(req.id);
  } catch (const std::exception& e) {
    // Kept and written again at the start of every pass: a request must
    // not stay claimed by a master that is not building it.
    spdlog::error("request {}: giving it back to the queue failed ({}); tried again at the next pass",
                  req.id, e.what());
    unclaimLater_[req.id] = {req, why};
    if (!retryTimer_) retryTimer_ = clock_.makeTimer();
    if (!retryTimer_->pending()) retryTimer_->start(kGiveBackRetry, [this] { wake(); });
  }
}

void BuildRequestDistributor::startBuild(const BuilderEntry& builder,
                                         const db::BuildRequestRecord& req,
                                         std::shared_ptr<RemoteSlave> slave) {
  Properties props;
  // Lowest precedence first: builder < slave < buildset, whose properties
  // are already scheduler < change < force (docs/configuration.md,
  // "Property precedence"). The source stamp's fields come last: a build
  // checks out what its BuildSet records, whatever a property says.
  for (auto it = builder.properties.begin(); it != builder.properties.end(); ++it)
    props.set(it.key(), it.value(), "Builder");
  if (const SlaveEntry* sc = slaves_.config(slave->name()))
    for (auto it = sc->properties.begin(); it != sc->properties.end(); ++it)
      props.set(it.key(), it.value(), "Slave");
  if (auto bs = db_.getBuildset(req.buildsetId)) {
    props.set("reason", bs->reason, "Build");
    props.set("scheduler", bs->scheduler, "Scheduler");
    // Buildset properties are stored as {name: [value, source]} or plain values.
    for (auto it = bs->properties.begin(); it != bs->properties.end(); ++it) {
      const Json& v = it.value();
      if (v.is_array() && v.size() == 2 && v[1].is_string())
        props.set(it.key(), v[0], v[1].get<std::string>());
      else
        props.set(it.key(), v, "Buildset");
    }
    // Set last, so they win (their source says where they come from).
    const db::SourceStamp& ss = bs->sourcestamp;
    props.set("branch", ss.branch, kSourceStampSource);
    props.set("revision", ss.revision, kSourceStampSource);
    props.set("repository", ss.repository, kSourceStampSource);
    props.set("project", ss.project, kSourceStampSource);
    props.set("codebase", "", kSourceStampSource);  // one codebase per build: ""
  }
  props.set("buildername", builder.name, "Builder");
  props.set("slavename", slave->name(), "Slave");
  props.set("master", masterName_, "Master");

  BuildEnv env{db_, clock_, maxRetries_, locks_,
               [this](Build& b) {
                 const std::int64_t rid = b.request().id;
                 if (admission_) admission_->remove(rid);
                 slaves_.buildFinished(b.slaveName());
                 // Keep the build alive until this callback's caller unwinds.
                 auto keep = running_[rid];
                 running_.erase(rid);
                 post_([keep] {});
                 if (running_.empty() && onIdle) onIdle();
                 wake();
               }};
  env.schedulers = schedulers_;
  env.buildsets = &buildsets_;
  env.events = &buildsets_.events();
  env.master = master_;
  env.storage = storage_;
  env.secrets = secrets_;
  env.artifacts = artifacts_;
  auto build = std::make_shared<Build>(env, builder, req, slave, std::move(props));
  running_[req.id] = build;
  ++started_;
  build->start();
}

void BuildRequestDistributor::stopAll(Result as, const std::string& reason) {
  for (auto& b : runningBuilds()) b->stop(as, reason);
}

std::vector<std::shared_ptr<Build>> BuildRequestDistributor::runningBuilds() const {
  std::vector<std::shared_ptr<Build>> out;
  for (const auto& [id, b] : running_) out.push_back(b);
  return out;
}

}  // namespace bb
