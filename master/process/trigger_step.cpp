#include "master/process/trigger_step.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

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

}  // namespace

TriggerStep::TriggerStep(SchedulerSet& schedulers, BuildsetService& buildsets, db::Database& db,
                         const StepConfig& step, LogWriter& log, Done done)
    : schedulers_(schedulers),
      buildsets_(buildsets),
      db_(db),
      step_(step),
      log_(log),
      done_(std::move(done)) {}

Json TriggerStep::childProperties(const StepConfig& step, const TriggerParent& parent,
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

db::SourceStamp TriggerStep::childSourceStamp(const StepConfig& step, const TriggerParent& parent,
                                              const Properties& parentProps) {
  db::SourceStamp ss = parent.sourcestamp;
  if (!step.updateSourceStamp) return ss;
  if (const Json* got = parentProps.get("got_revision"); got && got->is_string() && !got->get<std::string>().empty())
    ss.revision = got->get<std::string>();
  return ss;
}

void TriggerStep::start(const TriggerParent& parent, const Properties& parentProps) {
  auto self = shared_from_this();  // `done` may drop the owner's reference
  std::string notes;
  Json props;
  try {
    props = childProperties(step_, parent, parentProps, notes);
  } catch (const InterpolationError& e) {
    log_.append(2, std::string("cannot trigger: set_properties: ") + e.what() + "\n");
    end(Result::Exception, std::string("set_properties: ") + e.what());
    return;
  }
  if (!notes.empty()) log_.append(2, notes);
  const db::SourceStamp ss = childSourceStamp(step_, parent, parentProps);
  const std::string parentName = parent.builder + " #" + std::to_string(parent.number);
  std::vector<std::pair<std::string, NewBuildset>> made;
  try {
    // All or nothing: one transaction for every BuildSet of the step.
    db_.transaction([&] {
      for (const auto& name : step_.schedulers) {
        TriggerableScheduler* s = schedulers_.findTriggerable(name);
        if (!s)
          throw NotTriggerable("scheduler '" + name +
                               "' is not a configured triggerable scheduler now (a reconfig "
                               "removed it or changed its type); nothing was triggered");
        made.emplace_back(name, s->trigger(ss, props, parent.buildId, parentName));
      }
    });
  } catch (const NotTriggerable& e) {
    log_.append(2, std::string("cannot trigger: ") + e.what() + "\n");
    end(Result::Exception, e.what());
    return;
  }
  std::string text = "triggered";
  for (const auto& [name, bs] : made) {
    log_.append(2, "triggered scheduler '" + name + "': buildset " + std::to_string(bs.id) +
                       " on " + joined(bs.requests) + "\n");
    text += " " + name + " (buildset " + std::to_string(bs.id) + ")";
  }
  spdlog::info("build {}: {}", parentName, text);
  if (!step_.waitForFinish) {
    end(Result::Success, text);
    return;
  }
  log_.append(2, "waiting for the triggered builds to finish\n");
  starting_ = true;  // a BuildSet complete already must not end the step early
  // The subscriptions hold the step while it waits (as the build does);
  // every way out of the wait ends them.
  for (const auto& [name, bs] : made) {
    Subscriber sub;
    sub.name = "trigger step of " + parentName;
    sub.filter.types = {EventType::BuildsetCompleted};
    sub.filter.buildsetId = bs.id;
    sub.deliver = [self, id = bs.id](const Event&) {
      if (auto rec = self->db_.getBuildset(id)) self->onBuildsetComplete(*rec);
      return true;
    };
    sub.dropped = [self, this, id = bs.id](const std::string& why) {
      if (ended_) return;
      waits_.erase(id);
      for (const auto& [other, subId] : waits_) buildsets_.events().unsubscribe(subId);
      waits_.clear();
      log_.append(2, "stopped waiting for buildset " + std::to_string(id) + ": " + why + "\n");
      end(Result::Exception, "lost track of buildset " + std::to_string(id) + ": " + why);
    };
    waits_[bs.id] = buildsets_.events().subscribe(std::move(sub)).id;
    // Complete already (before the subscription): its event may still be
    // on its way, and is then ignored.
    if (auto rec = db_.getBuildset(bs.id); rec && rec->complete) onBuildsetComplete(*rec);
  }
  starting_ = false;
  if (waits_.empty()) end(worst_, "triggered builds finished: worst " + worstText_);
}

void TriggerStep::onBuildsetComplete(const db::BuildsetRecord& bs) {
  if (ended_) return;
  auto self = shared_from_this();
  auto wait = waits_.find(bs.id);
  if (wait == waits_.end()) return;
  buildsets_.events().unsubscribe(wait->second);
  waits_.erase(wait);
  std::string builds;
  for (const auto& r : db_.requestsForBuildset(bs.id)) {
    const auto made = db_.buildsForRequest(r.id);
    builds += builds.empty() ? "" : ", ";
    if (made.empty())
      builds += r.builder + " (no build: " + std::string(toString(r.result)) + ")";
    else
      builds += made.back().builder + " #" + std::to_string(made.back().number) + " " +
                std::string(toString(made.back().result));
  }
  log_.append(2, "buildset " + std::to_string(bs.id) + " (scheduler '" + bs.scheduler +
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
  if (waits_.empty() && !starting_) end(worst_, "triggered builds finished: worst " + worstText_);
}

void TriggerStep::stop() {
  if (ended_) return;
  ended_ = true;
  for (const auto& [id, sub] : waits_) buildsets_.events().unsubscribe(sub);
  waits_.clear();
}

void TriggerStep::end(Result r, const std::string& text) {
  if (ended_) return;
  ended_ = true;
  auto self = shared_from_this();
  if (done_) done_(r, text);
}

}  // namespace bb
