#include "master/process/steps/transfer_step.hpp"

#include <cstdlib>

#include "common/transfer_paths.hpp"
#include "config/yaml_util.hpp"
#include "master/process/log_writer.hpp"
#include "master/slaves/remote_slave.hpp"

namespace bb {

bool readTransferKeys(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s, bool upload) {
  const char* pathKey = upload ? "src" : "dest";
  if (upload)
    r.allowKeys({"name", "artifact", "src", "workdir", "max_size", "mode", "keep", "halt_on_failure",
                 "flunk_on_failure", "warn_on_failure", "locks", "urls"});
  else
    r.allowKeys({"name", "artifact", "dest", "build", "builder", "workdir", "max_size", "mode",
                 "halt_on_failure", "flunk_on_failure", "warn_on_failure", "locks", "urls"});
  auto o = std::make_shared<TransferOptions>();
  bool ok = true;
  if (auto w = r.string("workdir")) {
    if (auto bad = cfg::checkWorkdir(*w)) {
      r.error(r.markOf("workdir"), *bad);
    } else {
      cfg::checkInterpolation(r, r.markOf("workdir"), "workdir", *w);
      o->workdir = *w;
    }
  }
  if (auto a = r.string("artifact", true)) {
    cfg::checkInterpolation(r, r.markOf("artifact"), "artifact", *a);
    // Checked now unless a property fills it in (then when the step runs).
    if (a->find("%(") == std::string::npos)
      if (auto bad = checkArtifactName(*a)) r.error(r.markOf("artifact"), *bad);
    o->artifact = *a;
  } else {
    ok = false;
  }
  if (auto v = r.string(pathKey, true)) {
    cfg::checkInterpolation(r, r.markOf(pathKey), pathKey, *v);
    if (v->find("%(") == std::string::npos)
      if (auto bad = checkTransferPath(*v)) r.error(r.markOf(pathKey), std::string(pathKey) + ": " + *bad);
    o->path = *v;
  } else {
    ok = false;
  }
  if (auto n = r.integer("max_size", 0, cfg::kNoMax)) o->maxSize = *n;
  if (auto m = r.string("mode")) {
    char* end = nullptr;
    const long v = std::strtol(m->c_str(), &end, 8);
    if (m->empty() || *end != '\0' || v < 0 || v > 0777)
      r.error(r.markOf("mode"), "mode must be octal permissions such as \"0644\" or \"0755\", got '" + *m + "'");
    else
      o->mode = static_cast<int>(v);
  }
  if (upload) {
    if (auto k = r.integer("keep", 0, 1000000)) o->keep = static_cast<int>(*k);
  } else {
    if (auto b = r.string("build")) {
      cfg::checkInterpolation(r, r.markOf("build"), "build", *b);
      o->build = *b;
    }
    if (auto b = r.string("builder")) {
      if (r.has("build"))
        r.error(r.markOf("builder"), "give either build (a build id) or builder (the upstream build of that "
                                     "builder), not both");
      else
        p.refer(cfg::RefKind::Builder, *b, r.markOf("builder"), r.what());
      o->fromBuilder = *b;
    }
  }
  s.locks = cfg::parseLockAccesses(r, p);
  if (auto b = r.boolean("halt_on_failure")) s.haltOnFailure = *b;
  if (auto b = r.boolean("flunk_on_failure")) s.flunkOnFailure = *b;
  if (auto b = r.boolean("warn_on_failure")) s.warnOnFailure = *b;
  s.options = std::move(o);
  return ok;
}

std::string TransferStep::workdir() const {
  return ctx_->builder + "/" + interpolate(options().workdir, ctx_->props);
}

void TransferStep::start(StepContext& ctx, Done done) {
  ctx_ = &ctx;
  done_ = std::move(done);
  artifactName_ = interpolate(options().artifact, ctx.props);
  if (!ctx.artifacts) return end(Result::Exception, "this master keeps no artifacts");
  try {
    begin();
  } catch (const InterpolationError&) {
    throw;  // Build reports it: nothing started
  } catch (const std::exception& e) {
    end(Result::Exception, std::string("transfer failed: ") + e.what());
  }
}

std::int64_t TransferStep::run(const std::string& kind, Json args, TransferHandlers h) {
  auto self = shared_from_this();
  cmdId_ = ctx_->runTransfer(kind, std::move(args), std::move(h),
                             [self](const CommandOutcome& o) { self->onDone(o); });
  return cmdId_;
}

void TransferStep::abort(const std::string& why) {
  if (abortReason_ || ended_) return;
  abortReason_ = why;
  release();
  ctx_->log.append(2, why + "\n");
  if (cmdId_ && ctx_->slave && ctx_->slave->connected()) ctx_->slave->interrupt(cmdId_, why);
}

void TransferStep::interrupt(const std::string& reason) {
  if (ended_ || interruptReason_ || !ctx_) return;
  interruptReason_ = reason;
  if (cmdId_ == 0 || !ctx_->slave || !ctx_->slave->connected()) return;  // the loss ends it
  ctx_->slave->interrupt(cmdId_, reason);
  ctx_->log.append(2, "\nbuild stopped: " + reason + "\n");
}

Json TransferStep::describe() const {
  return Json{{"type", cfg_.type},
              {"name", cfg_.name},
              {"command_id", cmdId_},
              {"state", ended_ ? "done" : interruptReason_ ? "interrupting" : "running"},
              {"artifact", artifactName_},
              {"bytes", bytes_}};
}

void TransferStep::end(Result r, const std::string& text) {
  if (ended_) return;
  ended_ = true;
  release();
  ctx_->log.append(2, text + "\n");
  done_(StepOutcome{r, text, false});
}

void TransferStep::onDone(const CommandOutcome& o) {
  if (ended_) return;
  if (o.lost) {
    // Nothing partial stays: release() drops the temporary file.
    return end(Result::Retry, o.error + "; the transfer was cut off and nothing was stored");
  }
  if (abortReason_) return end(Result::Failure, *abortReason_);
  if (o.interrupted && interruptReason_) {
    ended_ = true;
    release();
    done_(StepOutcome{Result::Cancelled, "interrupted: " + *interruptReason_, true});
    return;
  }
  if (!o.error.empty()) return end(Result::Failure, o.error);
  if (o.timedOut || o.signal != 0 || o.rc != 0)
    return end(Result::Failure, "transfer failed (exit code " + std::to_string(o.rc) + ")");
  try {
    onSuccess(o);
  } catch (const std::exception& e) {
    end(Result::Exception, std::string("transfer failed: ") + e.what());
  }
}

}  // namespace bb
