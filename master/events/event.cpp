#include "master/events/event.hpp"

#include "common/msgpack_write.hpp"

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
  if (!packed_) {
    auto out = std::make_shared<std::vector<std::uint8_t>>();
    packEvent(*this, *out);
    packed_ = std::move(out);
  }
  return *packed_;
}

void packEvent(const Event& e, std::vector<std::uint8_t>& out) {
  // toJson's map, written in its keys' (sorted) order without building it:
  // every client that watches is sent every event, and the Json in
  // between cost more than the encoding.
  const std::string_view type = toString(e.type);
  const std::size_t entries = 4 + (e.buildId != 0) + !e.builder.empty() + (e.buildsetId != 0) +
                              (e.changeId != 0) + !e.changeIds.empty() + (e.logId != 0) +
                              e.fromOtherMaster + (e.requestId != 0) + !e.scheduler.empty() +
                              !e.slave.empty();
  out.reserve(out.size() + 160);
  msgpack::putMapHeader(out, entries);
  auto id = [&out](std::string_view key, std::int64_t v) {
    if (v == 0) return;
    msgpack::putString(out, key);
    msgpack::putInt(out, v);
  };
  auto text = [&out](std::string_view key, const std::string& v) {
    if (v.empty()) return;
    msgpack::putString(out, key);
    msgpack::putString(out, v);
  };
  id("build_id", e.buildId);
  text("builder", e.builder);
  id("buildset_id", e.buildsetId);
  id("change_id", e.changeId);
  if (!e.changeIds.empty()) {
    msgpack::putString(out, "change_ids");
    msgpack::putArrayHeader(out, e.changeIds.size());
    for (auto c : e.changeIds) msgpack::putInt(out, c);
  }
  msgpack::putString(out, "data");
  Json::to_msgpack(e.data, out);
  id("log_id", e.logId);
  if (e.fromOtherMaster) {
    msgpack::putString(out, "other_master");
    out.push_back(0xc3);  // true
  }
  id("request_id", e.requestId);
  text("scheduler", e.scheduler);
  msgpack::putString(out, "seq");
  msgpack::putUnsigned(out, e.seq);
  text("slave", e.slave);
  msgpack::putString(out, "time_ms");
  msgpack::putInt(out, e.timeMs);
  msgpack::putString(out, "type");
  msgpack::putString(out, type);
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
