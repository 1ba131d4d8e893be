#pragma once
// What one subscriber watches: topics (or event types), and keys (builder,
// slave, scheduler, BuildSet, build, change). An event matches when it is
// of a wanted topic or type and has every key the filter names. A change
// filter follows the change: the BuildSets made for it, and their
// requests, builds, steps and logs, match too.
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "master/events/event.hpp"

namespace bb {

struct EventFilter {
  std::set<std::string> topics;  // empty: every topic
  std::set<EventType> types;     // empty: every type of the topics
  std::optional<std::string> builder, slave, scheduler;
  std::optional<std::int64_t> buildsetId, buildId, changeId;
  // Also events relayed from other masters (Event::fromOtherMaster): what
  // waits for a BuildSet wherever it runs (dependent schedulers, trigger
  // steps) and what a person watches (clients, the web's event stream)
  // asks for them; a reporter does not, so each event is reported once,
  // by the master where it happened.
  bool otherMasters = false;

  // Whether `e` matches. Not const: a change filter remembers the BuildSets
  // made for its change as their buildset.created events pass.
  bool matches(const Event& e);
  // Whether some event of type `t` (from another master or not) could
  // match: its type and topic, before its keys are known.
  bool mayMatch(EventType t, bool fromOtherMaster) const;

  // From a client's subscribe params ({topics: [..], builder, slave,
  // scheduler, buildset_id, build_id, change_id, local_only}); throws
  // std::invalid_argument naming the bad field. Other masters' events are
  // included unless local_only is true.
  static EventFilter fromJson(const Json& params);
  // A readable summary ("builder b1, topics build, step"), for logs.
  std::string describe() const;

 private:
  std::set<std::int64_t> changeBuildsets_;  // followed for changeId
};

}  // namespace bb
