#pragma once
// The master's events: what happened, published on the EventBus only after
// the transaction that caused it has committed. One struct for every kind,
// so filters match keys in one place (event_filter.hpp); `data` carries the
// kind's details (the same JSON views the status replies use).
// docs/architecture.md has the table of kinds, publishers and listeners.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/message.hpp"  // Json

namespace bb {

enum class EventType : std::uint8_t {
  ChangeAdded,
  BuildsetCreated,
  BuildsetCompleted,
  RequestCreated,
  RequestClaimed,
  RequestUnclaimed,  // back in the queue (its build ended RETRY)
  RequestCancelled,
  RequestCollapsed,
  RequestPriority,
  RequestCompleted,
  BuildStarted,
  BuildFinished,
  StepStarted,
  StepFinished,
  StepUrls,  // a step's named URLs changed (config at its start, its command's ##buildbot-url)
  LogLines,  // output stored: log id, byte range, lines
  SlaveAttached,
  SlaveDetached,
  SlaveDraining,
  SlaveBackedOff,
  LockWaiting,
  LockAcquired,
  LockReleased,
  SchedulerState,  // next fire time, held changes, timer deadline changed
};

// "change.added", "build.finished", ...: the topic, a dot, the verb.
std::string_view toString(EventType t);
// "change", "buildset", "request", "build", "step", "log", "slave", "lock",
// "scheduler".
std::string_view topicOf(EventType t);
// Every topic name, for validating a filter.
const std::vector<std::string>& allTopics();

struct Event {
  std::uint64_t seq = 0;  // set by the bus: increasing, per master
  EventType type = EventType::ChangeAdded;
  std::int64_t timeMs = 0;  // wall clock, unix milliseconds; set by the bus
  // Keys a filter can match; 0 or "" where they do not apply. Events of a
  // build, its steps, logs and locks carry the build's builder, build id
  // and BuildSet id.
  std::string builder, slave, scheduler;
  std::int64_t changeId = 0, buildsetId = 0, requestId = 0, buildId = 0, logId = 0;
  std::vector<std::int64_t> changeIds;  // buildset.created: the changes it builds
  // Published here for what another master on the shared database did
  // (master/cluster/cluster_events.hpp); only filters that ask for such
  // events get them.
  bool fromOtherMaster = false;
  Json data = Json::object();

  // toJson(*this) as MessagePack, made once and shared by every client the
  // event is sent to. Call it only once the event is published (complete).
  const std::vector<std::uint8_t>& packed() const;

 private:
  mutable std::shared_ptr<const std::vector<std::uint8_t>> packed_;
};

// {seq, type, time_ms, keys that are set..., data}: the shape clients get.
Json toJson(const Event& e);
// Appends Json::to_msgpack(toJson(e)) to `out`, byte for byte, without
// making the Json (Event::packed).
void packEvent(const Event& e, std::vector<std::uint8_t>& out);

}  // namespace bb
