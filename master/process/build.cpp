#include "master/process/build.hpp"

#include <cmath>
#include <utility>

#include <spdlog/spdlog.h>

#include "master/buildsets/buildset_service.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/locks/lock_manager.hpp"
#include "master/process/pending_writes.hpp"
#include "master/process/step.hpp"
#include "master/secrets/secret_store.hpp"
#include "master/slaves/remote_slave.hpp"

namespace bb {

Build::Build(BuildEnv env, BuilderEntry builder, db::BuildRequestRecord request,
             std::shared_ptr<RemoteSlave> slave, Properties props)
    : env_(std::move(env)),
      builder_(std::move(builder)),
      request_(std::move(request)),
      slave_(std::move(slave)),
      props_(std::move(props)) {}

Build::~Build() = default;

const std::string& Build::slaveName() const { return slave_->name(); }

std::int64_t Build::nowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             env_.clock.wallNow().time_since_epoch())
      .count();
}

void Build::publish(EventType type, Json data) {
  if (!env_.events) return;
  Event e;
  e.type = type;
  e.builder = builder_.name;
  e.slave = slave_->name();
  e.buildId = record_.id;
  e.requestId = request_.id;
  e.buildsetId = request_.buildsetId;
  data["number"] = record_.number;
  e.data = std::move(data);
  env_.events->publish(std::move(e));
}

void Build::start() {
  try {
    env_.db.transaction([&] {
      record_ = env_.db.addBuild(env_.master, request_.id, builder_.name, slave_->name(),
                                 nowSeconds(), props_.toJson());
      publish(EventType::BuildStarted, Json{{"slave", slave_->name()}});
    });
  } catch (const std::exception& e) {
    fail("starting", e);
    return;
  }
  props_.set("buildnumber", record_.number, "Build");
  owner_ = "build " + builder_.name + " #" + std::to_string(record_.number);
  spdlog::info("build {} #{} started on slave {} for request {}", builder_.name, record_.number,
               slave_->name(), request_.id);
  try {
    withLocks(builder_.locks, buildLocks_, [this] { runStep(0); });
  } catch (const std::exception& e) {
    fail("starting its first step", e);  // e.g. its step row refused by a full disk
  }
}

void Build::fail(const std::string& what, const std::string& why) {
  spdlog::error("build {} #{}: {} failed: {}", builder_.name, record_.number, what, why);
  endNow(Result::Exception, "the master failed: " + why, what + " failed: " + why);
}

void Build::endNow(Result r, const std::string& stepReason, const std::string& text) {
  if (finished_) return;
  abandonStep(stepReason);
  cmdId_ = 0;
  finish(r, text);
}

void Build::fail(const std::string& what, const std::exception& e) {
  if (PendingWrites::isConnectionLost(e)) {
    // The database server is down or restarting: not the build's doing.
    // It ends RETRY without counting against the request, whose end is
    // stored (PendingWrites) once the server answers; it then runs again.
    const std::string text = "the database could not be reached: " + what + " failed (" +
                             static_cast<const DbError&>(e).cause() + ")";
    spdlog::error("build {} #{}: {}; the build ends and its request runs again", builder_.name,
                  record_.number, text);
    if (!finished_) databaseLost_ = true;
    endNow(Result::Retry, text, text);
    return;
  }
  if (!PendingWrites::isDiskFull(e)) {
    fail(what, std::string(e.what()));
    return;
  }
  if (env_.storage) env_.storage->noteFull(e.what());
  const std::string text =
      "disk full: " + what + " failed (" + static_cast<const DbError&>(e).cause() + ")";
  spdlog::error("build {} #{}: {}; the build ends", builder_.name, record_.number, text);
  endNow(Result::Exception, text, text);
}

void Build::failStoring(const std::exception& e) {
  if (PendingWrites::isConnectionLost(e)) return fail("storing output", e);
  if (!PendingWrites::isDiskFull(e)) {
    fail("storing output", std::string(e.what()));
    return;
  }
  if (env_.storage) env_.storage->noteFull(e.what());
  const StepConfig& s = builder_.steps[stepIndex_];
  const std::string text = "disk full: cannot store log of step " +
                           (s.name.empty() ? s.type : s.name) + " (" +
                           static_cast<const DbError&>(e).cause() + ")";
  spdlog::error("build {} #{}: {}; the build ends and the rest of its output is dropped",
                builder_.name, record_.number, text);
  endNow(Result::Exception, text, text);
}

void Build::abandonStep(const std::string& reason) {
  auto step = std::exchange(step_, nullptr);
  if (!step) return;
  ++stepRun_;  // whatever it reports now is not waited for
  try {
    step->interrupt(reason);
  } catch (const std::exception& e) {
    spdlog::error("build {} #{}: interrupting its step failed: {}", builder_.name, record_.number,
                  e.what());
  }
}

Json Build::lockNames(const std::vector<LockAccess>& wanted) const {
  Json out = Json::array();
  for (const auto& w : wanted) out.push_back(Json{{"lock", w.lock}, {"access", w.access}});
  return out;
}

void Build::withLocks(const std::vector<LockAccess>& wanted, std::uint64_t& request,
                      std::function<void()> then) {
  if (wanted.empty() || !env_.locks) {
    then();
    return;
  }
  LockManager::AcquireResult r;
  auto self = shared_from_this();
  try {
    r = env_.locks->acquire(wanted, slave_->name(), owner_, [self, then, wanted] {
      if (self->finished_) return;
      // Runs from whoever released the lock: this build's failure is its
      // own, never the releaser's.
      try {
        if (self->waitingSince_) {
          self->endLockWait();
          self->saveLockProperties();
        }
        self->publish(EventType::LockAcquired, Json{{"locks", self->lockNames(wanted)}});
        then();
      } catch (const std::exception& e) {
        self->fail("continuing after a lock wait", e);
      }
    });
  } catch (const std::exception& e) {
    finish(Result::Exception, std::string("cannot take locks: ") + e.what());
    return;
  }
  request = r.id;
  if (r.granted) {
    publish(EventType::LockAcquired, Json{{"locks", lockNames(wanted)}});
    then();
    return;
  }
  waitingSince_ = env_.clock.now();
  waitingForStep_ = &request == &stepLocks_;
  const std::string why = env_.locks->waitingFor(r.id);
  spdlog::info("{} is {}", owner_, why);
  if (log_) log_->append(2, why + "\n");
  props_.set("lock_status", why, "Locks");
  env_.db.setBuildProperties(record_.id, props_.toJson());
  publish(EventType::LockWaiting, Json{{"locks", lockNames(wanted)}, {"why", why}});
}

void Build::endLockWait() {
  const double waited = std::chrono::duration<double>(env_.clock.now() - *waitingSince_).count();
  waitingSince_.reset();
  lockWaitSeconds_ += waited;
  if (waitingForStep_) stepLockWaitMs_ += std::llround(waited * 1000);
}

void Build::saveLockProperties() {
  props_.erase("lock_status");
  props_.set("lock_wait_seconds", lockWaitSeconds_, "Locks");
  env_.db.setBuildProperties(record_.id, props_.toJson());
  // For the statistics (master/db/stats_db.cpp).
  env_.db.setBuildLockWait(record_.id, std::llround(lockWaitSeconds_ * 1000));
  if (waitingForStep_ && stepOpen_) env_.db.setStepLockWait(stepId_, stepLockWaitMs_);
}

void Build::releaseLocks() {
  if (!env_.locks) return;
  // release() cancels a request that is still waiting, releasing nothing
  // it did not hold.
  const bool held = stepLocks_ || buildLocks_;
  if (stepLocks_) env_.locks->release(std::exchange(stepLocks_, 0));
  if (buildLocks_) env_.locks->release(std::exchange(buildLocks_, 0));
  if (held) publish(EventType::LockReleased, Json{{"locks", lockNames(builder_.locks)}});
}

void Build::runStep(std::size_t index) {
  if (stopAs_) {
    finish(*stopAs_, stopReason_);
    return;
  }
  if (index >= builder_.steps.size()) {
    finish(result_, "build " + std::string(toString(result_)));
    return;
  }
  stepIndex_ = index;
  stepRan_ = false;
  stepLockWaitMs_ = 0;
  urls_ = StepUrls{};
  urlsDirty_ = false;
  const StepConfig& s = builder_.steps[index];
  const std::string stepName = s.name.empty() ? s.type : s.name;
  std::int64_t logId = 0;
  env_.db.transaction([&] {
    stepId_ = env_.db.addStep(record_.id, static_cast<int>(index) + 1, stepName, nowSeconds());
    logId = env_.db.addLog(stepId_, "stdio");
    publish(EventType::StepStarted, Json{{"step", static_cast<int>(index) + 1},
                                         {"name", stepName}, {"step_id", stepId_},
                                         {"log_id", logId}});
  });
  stepOpen_ = true;
  std::weak_ptr<Build> weak = shared_from_this();
  log_ = std::make_unique<LogWriter>(
      env_.db, logId, &env_.clock,
      [weak, step = static_cast<int>(index) + 1](const LogStored& st) {
        auto self = weak.lock();
        if (!self) return;
        // Output is credited back to the slave once it is stored.
        const std::int64_t give = std::min(self->creditOwed_, st.inputBytes);
        self->creditOwed_ -= give;
        if (self->cmdId_) self->slave_->credit(self->cmdId_, give);
        if (self->urlsDirty_) self->storeUrls();
        self->publish(EventType::LogLines, Json{{"step", step},
                                                {"log_id", st.logId},
                                                {"first_byte", st.firstByte},
                                                {"end_byte", st.endByte},
                                                {"newlines", st.newlines}});
      },
      [weak](const std::exception& e) {
        if (auto self = weak.lock()) self->failStoring(e);
      });
  log_->setMasking(env_.secrets);
  withLocks(s.locks, stepLocks_, [this, index] { startStep(index); });
}

void Build::startStep(std::size_t index) {
  if (stopAs_ || finished_) {
    finish(stopAs_.value_or(Result::Cancelled), stopReason_);
    return;
  }
  const StepConfig& s = builder_.steps[index];
  const std::string stepName = s.name.empty() ? s.type : s.name;
  const StepType* type = findStepType(s.type);
  if (!type) {  // the config loader refuses it; kept for entries built in code
    log_->append(2, "unknown step type '" + s.type + "'\n");
    endStep(Result::Exception, "unknown step type '" + s.type + "'");
    return;
  }
  auto self = shared_from_this();
  stepCtx_ = std::make_unique<StepContext>(StepContext{
      record_.id, builder_.name, record_.number, request_.buildsetId, s, slave_.get(), props_,
      *log_, env_.db, env_.clock, env_.schedulers, env_.buildsets, env_.events,
      [this](const std::string& kind, Json args, std::function<void(const CommandOutcome&)> done) {
        return runCommand(kind, std::move(args), std::move(done));
      },
      [this](const std::string& name, const Json& value, const std::string& source) {
        props_.set(name, env_.secrets ? env_.secrets->maskJson(value) : value, source);
        env_.db.setBuildProperties(record_.id, props_.toJson());
      }});
  if (env_.secrets) stepCtx_->secrets = &env_.secrets->values();
  stepCtx_->stepId = stepId_;
  stepCtx_->artifacts = env_.artifacts;
  stepCtx_->runTransfer = [this](const std::string& kind, Json args, TransferHandlers t,
                                 std::function<void(const CommandOutcome&)> done) {
    return runCommand(kind, std::move(args), std::move(done), std::move(t));
  };
  step_ = type->make(s);
  stepRan_ = true;
  const std::uint64_t run = ++stepRun_;
  try {
    addConfigUrls(s);
    step_->start(*stepCtx_, [self, run](const StepOutcome& o) { self->onStepDone(run, o); });
  } catch (const InterpolationError& e) {
    if (run != stepRun_) throw;  // not this step's
    step_.reset();
    log_->append(2, std::string("cannot start step: ") + e.what() + "\n");
    log_->finish();
    env_.db.finishStep(stepId_, Result::Exception, e.what(), nowSeconds());
    stepOpen_ = false;
    finish(Result::Exception, std::string("step ") + stepName + ": " + e.what());
  } catch (const std::exception& e) {
    if (run != stepRun_) throw;  // not this step's
    fail("starting step " + stepName, e);
  }
}

std::int64_t Build::runCommand(const std::string& kind, Json args,
                               std::function<void(const CommandOutcome&)> done,
                               TransferHandlers transfer) {
  auto self = shared_from_this();
  CommandHandlers h;
  h.onFileCredit = std::move(transfer.onFileCredit);
  h.onOutput = [self, onData = std::move(transfer.onData)](int stream, std::string_view data) {
    if (stream == static_cast<int>(Stream::Data)) {
      // An upload's bytes: the step stores and credits them. Anywhere
      // else they are dropped, and credited so the window stays open.
      if (onData && !self->finished_) return onData(data);
      self->slave_->credit(self->cmdId_, static_cast<std::int64_t>(data.size()));
      return;
    }
    if (self->finished_ || !self->log_ || self->log_->finished()) {
      // Nowhere to store it (the build is ending): give the window back.
      self->slave_->credit(self->cmdId_, static_cast<std::int64_t>(data.size()));
      return;
    }
    self->creditOwed_ += static_cast<std::int64_t>(data.size());
    try {
      // ##buildbot-url lines name the step's URLs; stored with the log.
      std::vector<std::string> refused;
      if (self->urls_.scan(stream, data, [&](const std::string& why) { refused.push_back(why); }))
        self->urlsDirty_ = true;
      self->log_->append(stream, data);
      for (const auto& why : refused) self->log_->append(2, "\n" + why + "\n");
    } catch (const std::exception& e) {
      self->failStoring(e);
    }
  };
  h.onDone = [self, run = stepRun_, done = std::move(done)](const CommandOutcome& o) {
    // A command of a step the build no longer waits for (it failed
    // meanwhile) changes nothing.
    if (run != self->stepRun_ || self->finished_) {
      spdlog::info("build {} #{}: its interrupted command ended after the build ended; ignored",
                   self->builder_.name, self->record_.number);
      return;
    }
    self->cmdId_ = 0;
    try {
      done(o);
    } catch (const std::exception& e) {
      self->fail("ending step", e);
    }
  };
  creditOwed_ = 0;
  cmdId_ = slave_->startCommand(kind, std::move(args), std::move(h));
  return cmdId_;
}

Json Build::currentStep() const {
  if (!step_) return nullptr;
  Json out = step_->describe();
  out["number"] = static_cast<int>(stepIndex_) + 1;
  return out;
}

void Build::onStepDone(std::uint64_t run, const StepOutcome& o) {
  if (run != stepRun_ || finished_) return;
  // Kept alive until this returns: the step may still be on the stack.
  auto step = std::exchange(step_, nullptr);
  if (stepLocks_ && env_.locks) env_.locks->release(std::exchange(stepLocks_, 0));
  const Result r = o.interrupted && stopAs_ ? *stopAs_ : o.result;
  // A step's text may quote the slave (an error message): mask it before
  // it becomes the step's and the build's text.
  endStep(r, env_.secrets ? env_.secrets->mask(o.text) : o.text);
}

void Build::endStep(Result r, const std::string& text) {
  const StepConfig& s = builder_.steps[stepIndex_];
  if (stepLocks_ && env_.locks) env_.locks->release(std::exchange(stepLocks_, 0));
  log_->finish();
  env_.db.transaction([&] {
    if (urlsDirty_) storeUrls();
    env_.db.finishStep(stepId_, r, text, nowSeconds());
    publish(EventType::StepFinished,
            Json{{"step", static_cast<int>(stepIndex_) + 1},
                 {"name", s.name.empty() ? s.type : s.name},
                 {"step_id", stepId_},
                 {"result", std::string(toString(r))},
                 {"text", text}});
  });
  stepOpen_ = false;
  switch (r) {
    case Result::Success:
    case Result::Skipped:
      break;
    case Result::Warnings:
      result_ = worst(result_, Result::Warnings);
      break;
    case Result::Failure:
      if (s.flunkOnFailure) result_ = worst(result_, Result::Failure);
      else if (s.warnOnFailure) result_ = worst(result_, Result::Warnings);
      if (s.haltOnFailure) {
        finish(result_, "step " + (s.name.empty() ? s.type : s.name) + " failed: " + text);
        return;
      }
      break;
    case Result::Exception:
    case Result::Retry:
    case Result::Cancelled:
      finish(r, text);
      return;
  }
  runStep(stepIndex_ + 1);
}

void Build::stop(Result as, const std::string& reason) {
  if (finished_ || stopAs_) return;
  stopAs_ = as;
  stopReason_ = reason;
  if (step_) {
    // The step ends (now, or when the slave confirms) and the build with it.
    try {
      step_->interrupt(reason);
    } catch (const std::exception& e) {
      fail("interrupting the step", e.what());
    }
    return;
  }
  finish(as, reason);  // waiting for locks, or between steps
}

void Build::finish(Result r, const std::string& text) {
  if (finished_) return;
  finished_ = true;
  result_ = r;
  // An open step that had started ends with the build's reason.
  openStepText_ = stepRan_ ? text : "stopped before it ran: " + text;
  abandonStep("the build ended: " + text);
  // Nothing here may stop the slot from being freed: the locks are
  // released and the distributor hears that the build ended whatever the
  // database does. The end is written in one transaction; a full disk
  // keeps it in PendingWrites, tried again until there is room.
  if (log_ && !log_->failed()) {
    try {
      log_->finish();  // stores what is buffered (a step stopped while waiting for its locks)
    } catch (const std::exception& e) {
      spdlog::error("build {} #{}: storing the end of its log failed: {}", builder_.name,
                    record_.number, e.what());
      if (env_.storage && PendingWrites::isDiskFull(e)) env_.storage->noteFull(e.what());
    }
  }
  releaseLocks();
  if (waitingSince_) endLockWait();
  // A lost slave counts against the request's retries; a master shutdown
  // (stopAs_) does not, since the request did nothing wrong.
  std::string buildText = text;
  if (r == Result::Retry && !stopAs_ && !databaseLost_ && request_.retries >= env_.maxRetries)
    buildText += "; the request gave up after " + std::to_string(request_.retries) + " retries";
  const std::int64_t now = nowSeconds();
  auto self = shared_from_this();
  auto write = [self, r, text, now] { self->recordEnd(r, text, now); };
  const std::string what = "the result of build " + builder_.name + " #" +
                           std::to_string(record_.number) + " (" + std::string(toString(r)) + ")";
  try {
    if (env_.storage) env_.storage->write(what, write);
    else write();
  } catch (const std::exception& e) {
    // The database refused for another reason (I/O error): the build row
    // and its request stay as they were written; the master's next start
    // records the build as RETRY and runs the request again.
    spdlog::critical("build {} #{} ended {} but recording it failed: {}; it will be recovered at "
                     "the next start of the master",
                     builder_.name, record_.number, toString(r), e.what());
    result_ = Result::Exception;
  }
  spdlog::info("build {} #{} finished: {} ({})", builder_.name, record_.number, toString(r), buildText);
  if (env_.onFinished) env_.onFinished(*this);
}

void Build::recordEnd(Result r, const std::string& text, std::int64_t now) {
  const bool counted = r == Result::Retry && !stopAs_ && !databaseLost_;
  const bool givesUp = counted && request_.retries >= env_.maxRetries;
  std::string buildText = text;
  if (givesUp)
    buildText += "; the request gave up after " + std::to_string(request_.retries) + " retries";
  env_.db.transaction([&] {
    // A log whose store (or end) failed is still open; so is a step that
    // never ended.
    if (log_) {
      if (auto l = env_.db.getLog(log_->logId()); l && !l->finished) env_.db.finishLog(l->id);
    }
    // Rerunnable: a write refused before (a full disk) left them unstored.
    if (stepOpen_ && (urlsDirty_ || !urls_.empty())) storeUrls();
    if (stepOpen_) env_.db.finishStep(stepId_, r, openStepText_, now);
    if (lockWaitSeconds_ > 0 || props_.has("lock_status")) saveLockProperties();
    if (record_.id) env_.db.finishBuild(record_.id, r, buildText, now);
    publish(EventType::BuildFinished,
            Json{{"result", std::string(toString(r))},
                 {"text", buildText},
                 {"duration_seconds", record_.startedAt > 0 ? std::max<std::int64_t>(0, now - record_.startedAt) : 0},
                 {"lock_wait_seconds", lockWaitSeconds_}});
    if (r == Result::Retry && !givesUp) {
      // The request goes back to the queue to run again.
      env_.db.unclaimRequest(request_.id, counted);
      publish(EventType::RequestUnclaimed, Json{{"retry", counted}});
    } else {
      const Result rr = givesUp ? Result::Exception : r;
      // A request that gives up says why in its own text too, so status
      // shows more than a row of retried builds.
      auto completion = env_.db.completeRequest(
          request_.id, rr, now,
          givesUp ? "gave up after " + std::to_string(request_.retries) + " retries: " + text : "");
      publish(EventType::RequestCompleted, Json{{"result", std::string(toString(rr))}});
      if (completion && env_.buildsets) env_.buildsets->completed(*completion);
    }
  });
  stepOpen_ = false;
}

void Build::addConfigUrls(const StepConfig& s) {
  for (const auto& [name, tmpl] : s.urls) {
    const std::string url = interpolate(tmpl, props_);
    if (auto bad = urls_.add(name, url))
      throw InterpolationError("urls " + name + ": '" + url + "': " + *bad);
  }
  if (!s.urls.empty()) {
    urlsDirty_ = true;
    env_.db.transaction([&] { storeUrls(); });
  }
}

void Build::storeUrls() {
  // A URL may quote a secret that a command printed: masked like the log.
  const Json urls = env_.secrets ? env_.secrets->maskJson(urls_.toJson()) : urls_.toJson();
  env_.db.setStepUrls(stepId_, urls);
  urlsDirty_ = false;
  const StepConfig& s = builder_.steps[stepIndex_];
  publish(EventType::StepUrls, Json{{"step", static_cast<int>(stepIndex_) + 1},
                                    {"name", s.name.empty() ? s.type : s.name},
                                    {"step_id", stepId_},
                                    {"urls", urls}});
}

}  // namespace bb
