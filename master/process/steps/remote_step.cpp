#include "master/process/steps/remote_step.hpp"

#include <algorithm>

#include "config/yaml_util.hpp"
#include "master/process/log_writer.hpp"
#include "master/slaves/remote_slave.hpp"

namespace bb {

void readRemoteStepKeys(const cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s,
                        RemoteStepOptions& o) {
  if (auto w = r.string("workdir")) {
    if (auto bad = cfg::checkWorkdir(*w)) {
      r.error(r.markOf("workdir"), *bad);
    } else {
      cfg::checkInterpolation(r, r.markOf("workdir"), "workdir", *w);
      o.workdir = *w;
    }
  }
  if (auto t = r.integer("timeout", 0, cfg::kNoMax))
    o.timeout = static_cast<int>(std::min<std::int64_t>(*t, 1 << 30));
  s.locks = cfg::parseLockAccesses(r, p);
}

std::string RemoteStep::workdir(const StepContext& ctx, const RemoteStepOptions& o) {
  return ctx.builder + "/" + interpolate(o.workdir, ctx.props);
}

void RemoteStep::start(StepContext& ctx, Done done) {
  ctx_ = &ctx;
  done_ = std::move(done);
  Json a = args(ctx);
  auto self = shared_from_this();
  cmdId_ = ctx.runCommand(kind(), std::move(a), [self](const CommandOutcome& o) { self->onDone(o); });
}

void RemoteStep::interrupt(const std::string& reason) {
  if (ended_ || interruptReason_ || !ctx_) return;
  interruptReason_ = reason;
  if (cmdId_ == 0 || !ctx_->slave || !ctx_->slave->connected()) return;  // the loss ends it
  ctx_->slave->interrupt(cmdId_, reason);
  ctx_->log.append(2, "\nbuild stopped: " + reason + "\n");
}

Json RemoteStep::describe() const {
  return Json{{"type", cfg_.type},
              {"name", cfg_.name},
              {"command_id", cmdId_},
              {"state", ended_ ? "done" : interruptReason_ ? "interrupting" : "running"}};
}

void RemoteStep::onDone(const CommandOutcome& o) {
  if (ended_) return;
  ended_ = true;
  StepOutcome out;
  if (o.lost) {
    out = {Result::Retry, o.error, false};
    ctx_->log.append(2, "\n" + o.error + "\n");
  } else if (o.interrupted && interruptReason_) {
    out = {Result::Cancelled, "interrupted: " + *interruptReason_, true};
  } else if (!o.error.empty()) {
    out = {Result::Exception, o.error, false};
    ctx_->log.append(2, o.error + "\n");
  } else if (o.timedOut) {
    out = {Result::Failure, "timed out", false};
  } else if (o.signal != 0) {
    out = {Result::Failure, "killed by signal " + std::to_string(o.signal), false};
  } else if (o.rc == 0) {
    out = {Result::Success, "exit code 0", false};
  } else {
    out = {cfg_.warnOnFailure && !cfg_.flunkOnFailure ? Result::Warnings : Result::Failure,
           "exit code " + std::to_string(o.rc), false};
  }
  onOutcome(*ctx_, o);
  done_(out);
}

}  // namespace bb
