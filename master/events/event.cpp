#include "master/events/event.hpp"

namespace bb {

std::string_view toString(EventType t) {
  switch (t) {
    case EventType::ChangeAdded: return "change.added";
    case EventType::BuildsetCreated: return "buildset.created";
    case EventType::BuildsetCompleted: return "buildset.completed";
    case EventType::RequestCreated: return "request.created";
    case EventType::RequestClaimed: return "request.claimed";
    case EventType::RequestUnclaimed: return "request.unclaimed";
    case EventType::RequestCancelled: return "request.cancelled";
    case EventType::RequestCollapsed: return "request.collapsed";
    case EventType::RequestPriority: return "request.priority";
    case EventType::RequestCompleted: return "request.completed";
    case EventType::BuildStarted: return "build.started";
    case EventType::BuildFinished: return "build.finished";
    case EventType::StepStarted: return "step.started";
    case EventType::StepFinished: return "step.finished";
    case EventType::StepUrls: return "step.urls";
    case EventType::LogLines: return "log.lines";
    case EventType::SlaveAttached: return "slave.attached";
    case EventType::SlaveDetached: return "slave.detached";
    case EventType::SlaveDraining: return "slave.draining";
    case EventType::SlaveBackedOff: return "slave.backed_off";
    case EventType::LockWaiting: return "lock.waiting";
    case EventType::LockAcquired: return "lock.acquired";
    case EventType::LockReleased: return "lock.released";
    case EventType::SchedulerState: return "scheduler.state";
  }
  return "unknown";
}

std::string_view topicOf(EventType t) {
  const std::string_view s = toString(t);
  return s.substr(0, s.find('.'));
}

const std::vector<std::string>& allTopics() {
  static const std::vector<std::string> topics{"change", "buildset", "request", "build", "step",
                                               "log",    "slave",    "lock",    "scheduler"};
  return topics;
}

const std::vector<std::uint8_t>& Event::packed() const {
  if (!packed_) packed_ = std::make_shared<const std::vector<std::uint8_t>>(Json::to_msgpack(toJson(*this)));
  return *packed_;
}

Json toJson(const Event& e) {
  Json j{{"seq", e.seq}, {"type", std::string(toString(e.type))}, {"time_ms", e.timeMs}};
  if (!e.builder.empty()) j["builder"] = e.builder;
  if (!e.slave.empty()) j["slave"] = e.slave;
  if (!e.scheduler.empty()) j["scheduler"] = e.scheduler;
  if (e.changeId) j["change_id"] = e.changeId;
  if (e.buildsetId) j["buildset_id"] = e.buildsetId;
  if (e.requestId) j["request_id"] = e.requestId;
  if (e.buildId) j["build_id"] = e.buildId;
  if (e.logId) j["log_id"] = e.logId;
  if (!e.changeIds.empty()) j["change_ids"] = e.changeIds;
  if (e.fromOtherMaster) j["other_master"] = true;
  j["data"] = e.data;
  return j;
}

}  // namespace bb
