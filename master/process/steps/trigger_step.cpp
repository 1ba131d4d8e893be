#include "master/process/steps/trigger_step.hpp"

#include <memory>
#include <set>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>

#include "config/yaml_util.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/process/log_writer.hpp"
#include "master/schedulers/scheduler_set.hpp"
#include "master/schedulers/triggerable.hpp"

namespace bb {

namespace {

constexpr const char* kSource = "Trigger";

std::string joined(const std::map<std::string, std::int64_t>& requests) {
  std::string out;
  for (const auto& [builder, id] : requests) out += (out.empty() ? "" : ", ") + builder;
  return out;
}

// A scheduler that a reconfig removed (or gave another type) since the
// build started cannot be triggered.
struct NotTriggerable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool parseTriggerStep(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
  r.allowKeys({"name", "schedulers", "wait_for_finish", "set_properties", "copy_properties",
               "update_source_stamp", "halt_on_failure", "flunk_on_failure", "warn_on_failure",
               "locks", "urls"});
  auto o = std::make_shared<TriggerOptions>();
  s.locks = cfg::parseLockAccesses(r, p);
  bool ok = true;
  if (auto list = r.stringList("schedulers", true)) {
    YAML::Node node = r.value("schedulers");
    if (list->empty()) {
      r.error(r.markOf("schedulers"),
              "schedulers is empty; list the triggerable schedulers this step starts");
      ok = false;
    }
    std::vector<std::string> startable;
    for (const auto& k : p.kinds.schedulers)
      if (k.triggerable) startable.push_back(k.name);
    std::set<std::string> seen;
    for (std::size_t j = 0; j < list->size(); ++j) {
      const std::string& name = (*list)[j];
      if (!seen.insert(name).second) {
        r.error(node[j].Mark(), "scheduler '" + name + "' is listed twice; list each once");
        ok = false;
        continue;
      }
      p.refer(cfg::RefKind::Scheduler, name, node[j].Mark(), r.what());
      auto t = p.schedulerTypes.find(name);
      const SchedulerKind* kind = t == p.schedulerTypes.end() ? nullptr : p.kinds.scheduler(t->second);
      if (t != p.schedulerTypes.end() && !(kind && kind->triggerable)) {
        r.error(node[j].Mark(), "scheduler '" + name + "' has type " + t->second +
                                    "; a trigger step can only start schedulers of type " +
                                    cfg::joinNames(startable, ", ", " or "));
        ok = false;
      }
    }
    o->schedulers = *list;
  } else {
    ok = false;
  }
  if (auto b = r.boolean("wait_for_finish")) o->waitForFinish = *b;
  if (auto props = r.properties("set_properties")) {
    YAML::Node node = r.value("set_properties");
    for (auto it = node.begin(); it != node.end(); ++it)
      if (it->second.IsScalar())
        cfg::checkInterpolation(r, it->second.Mark(), "set_properties " + it->first.Scalar(),
                                it->second.Scalar());
    o->setProperties = *props;
  } else if (r.has("set_properties")) {
    ok = false;
  }
  if (auto copy = r.stringList("copy_properties")) o->copyProperties = *copy;
  if (auto b = r.boolean("update_source_stamp")) o->updateSourceStamp = *b;
  if (auto b = r.boolean("halt_on_failure")) s.haltOnFailure = *b;
  if (auto b = r.boolean("flunk_on_failure")) s.flunkOnFailure = *b;
  if (auto b = r.boolean("warn_on_failure")) s.warnOnFailure = *b;
  s.options = std::move(o);
  return ok;
}

}  // namespace

void TriggerStep::declareType(StepType& t) { t.config.parse = parseTriggerStep; }

Json TriggerStep::childProperties(const TriggerOptions& step, const TriggerParent& parent,
                                  const Properties& parentProps, std::string& notes) {
  Json props = Json::object();
  for (const auto& name : step.copyProperties) {
    if (const Json* v = parentProps.get(name))
      props[name] = Json::array({*v, kSource});
    else
      notes += "copy_properties: the parent has no property '" + name + "'; not copied\n";
  }
  for (auto it = step.setProperties.begin(); it != step.setProperties.end(); ++it) {
    Json value = it.value();
    if (value.is_string()) value = interpolate(value.get<std::string>(), parentProps);
    props[it.key()] = Json::array({std::move(value), kSource});
  }
  // Set last, so that no copied or set property can hide the link.
  props["parent_builder"] = Json::array({parent.builder, kSource});
  props["parent_buildnumber"] = Json::array({parent.number, kSource});
  props["parent_build_id"] = Json::array({parent.buildId, kSource});
  return props;
}

db::SourceStamp TriggerStep::childSourceStamp(const TriggerOptions& step,
                                              const TriggerParent& parent,
                                              const Properties& parentProps) {
  db::SourceStamp ss = parent.sourcestamp;
  if (!step.updateSourceStamp) return ss;
  if (const Json* got = parentProps.get("got_revision"); got && got->is_string() && !got->get<std::string>().empty())
    ss.revision = got->get<std::string>();
  return ss;
}

void TriggerStep::start(StepContext& ctx, Done done) {
  ctx_ = &ctx;
  done_ = std::move(done);
  auto self = shared_from_this();  // `done` may drop the owner's reference
  LogWriter& log = ctx.log;
  if (!ctx.schedulers || !ctx.buildsets) {
    log.append(2, "cannot trigger: this master runs no schedulers\n");
    end({Result::Exception, "cannot trigger: this master runs no schedulers", false});
    return;
  }
  TriggerParent parent{ctx.buildId, ctx.builder, ctx.number, {}};
  if (auto bs = ctx.db.getBuildset(ctx.buildsetId)) parent.sourcestamp = bs->sourcestamp;
  std::string notes;
  Json props;
  try {
    props = childProperties(opts_, parent, ctx.props, notes);
  } catch (const InterpolationError& e) {
    log.append(2, std::string("cannot trigger: set_properties: ") + e.what() + "\n");
    end({Result::Exception, std::string("set_properties: ") + e.what(), false});
    return;
  }
  if (!notes.empty()) log.append(2, notes);
  const db::SourceStamp ss = childSourceStamp(opts_, parent, ctx.props);
  const std::string parentName = parent.builder + " #" + std::to_string(parent.number);
  std::vector<std::pair<std::string, NewBuildset>> made;
  try {
    // All or nothing: one transaction for every BuildSet of the step.
    ctx.db.transaction([&] {
      for (const auto& name : opts_.schedulers) {
        TriggerableScheduler* s = ctx.schedulers->findTriggerable(name);
        if (!s)
          throw NotTriggerable("scheduler '" + name +
                               "' is not a configured triggerable scheduler now (a reconfig "
                               "removed it or changed its type); nothing was triggered");
        made.emplace_back(name, s->trigger(ss, props, parent.buildId, parentName));
      }
    });
  } catch (const NotTriggerable& e) {
    log.append(2, std::string("cannot trigger: ") + e.what() + "\n");
    end({Result::Exception, e.what(), false});
    return;
  }
  std::string text = "triggered";
  for (const auto& [name, bs] : made) {
    log.append(2, "triggered scheduler '" + name + "': buildset " + std::to_string(bs.id) +
                      " on " + joined(bs.requests) + "\n");
    text += " " + name + " (buildset " + std::to_string(bs.id) + ")";
  }
  spdlog::info("build {}: {}", parentName, text);
  if (!opts_.waitForFinish) {
    end({Result::Success, text, false});
    return;
  }
  log.append(2, "waiting for the triggered builds to finish\n");
  starting_ = true;  // a BuildSet complete already must not end the step early
  // The subscriptions hold the step while it waits (as the build does);
  // every way out of the wait ends them.
  EventBus& events = ctx.buildsets->events();
  for (const auto& [name, bs] : made) {
    Subscriber sub;
    sub.name = "trigger step of " + parentName;
    sub.filter.types = {EventType::BuildsetCompleted};
    sub.filter.buildsetId = bs.id;
    sub.filter.otherMasters = true;  // its builds may run on another master
    sub.deliver = [self, id = bs.id](const Event&) {
      if (self->ended_) return true;
      if (auto rec = self->ctx_->db.getBuildset(id)) self->onBuildsetComplete(*rec);
      return true;
    };
    sub.dropped = [self, id = bs.id](const std::string& why) {
      if (self->ended_) return;
      self->waits_.erase(id);
      self->stopWaiting();
      self->ctx_->log.append(2, "stopped waiting for buildset " + std::to_string(id) + ": " + why + "\n");
      self->end({Result::Exception, "lost track of buildset " + std::to_string(id) + ": " + why, false});
    };
    waits_[bs.id] = events.subscribe(std::move(sub)).id;
    // Complete already (before the subscription): its event may still be
    // on its way, and is then ignored.
    if (auto rec = ctx.db.getBuildset(bs.id); rec && rec->complete) onBuildsetComplete(*rec);
  }
  starting_ = false;
  if (waits_.empty() && !ended_)
    end({worst_, "triggered builds finished: worst " + worstText_, false});
}

void TriggerStep::onBuildsetComplete(const db::BuildsetRecord& bs) {
  if (ended_) return;
  auto self = shared_from_this();
  auto wait = waits_.find(bs.id);
  if (wait == waits_.end()) return;
  ctx_->buildsets->events().unsubscribe(wait->second);
  waits_.erase(wait);
  std::string builds;
  for (const auto& r : ctx_->db.requestsForBuildset(bs.id)) {
    const auto made = ctx_->db.buildsForRequest(r.id);
    builds += builds.empty() ? "" : ", ";
    if (made.empty())
      builds += r.builder + " (no build: " + std::string(toString(r.result)) + ")";
    else
      builds += made.back().builder + " #" + std::to_string(made.back().number) + " " +
                std::string(toString(made.back().result));
  }
  ctx_->log.append(2, "buildset " + std::to_string(bs.id) + " (scheduler '" + bs.scheduler +
                          "') finished: " + std::string(toString(bs.result)) + ": " + builds + "\n");
  // A child's exception or cancellation is not the parent's: the parent
  // did what it was asked, and its trigger step counts it as a failure.
  Result r = bs.result;
  if (r == Result::Skipped) r = Result::Success;
  if (r == Result::Exception || r == Result::Cancelled || r == Result::Retry) r = Result::Failure;
  if (worstText_.empty() || severity(r) > severity(worst_)) {
    worst_ = worst(worst_, r);
    worstText_ = "buildset " + std::to_string(bs.id) + " " + std::string(toString(bs.result));
  }
  if (waits_.empty() && !starting_)
    end({worst_, "triggered builds finished: worst " + worstText_, false});
}

void TriggerStep::stopWaiting() {
  if (ctx_ && ctx_->buildsets)
    for (const auto& [id, sub] : waits_) ctx_->buildsets->events().unsubscribe(sub);
  waits_.clear();
}

void TriggerStep::interrupt(const std::string& reason) {
  if (ended_ || !ctx_) return;
  auto self = shared_from_this();
  stopWaiting();
  ctx_->log.append(2, "\nbuild stopped while waiting: " + reason +
                          "; the triggered builds keep running\n");
  end({Result::Cancelled, "interrupted while waiting: " + reason, true});
}

Json TriggerStep::describe() const {
  Json waiting = Json::array();
  for (const auto& [id, sub] : waits_) waiting.push_back(id);
  return Json{{"type", cfg_.type},
              {"name", cfg_.name},
              {"schedulers", opts_.schedulers},
              {"state", ended_ ? "done" : waits_.empty() ? "triggering" : "waiting"},
              {"waiting_for", waiting}};
}

void TriggerStep::end(StepOutcome out) {
  if (ended_) return;
  ended_ = true;
  auto self = shared_from_this();
  // A failed child counts as the step's failure, weighed by the step's
  // flunk/warn settings like a shell command's exit code.
  if (out.result == Result::Failure && cfg_.warnOnFailure && !cfg_.flunkOnFailure)
    out.result = Result::Warnings;
  if (done_) done_(out);
}

}  // namespace bb
