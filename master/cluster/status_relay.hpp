#pragma once
// What watchers, pages and reporters show, carried between masters on a
// shared database. The master where a build runs announces its status
// events (cluster_events.hpp, channel bb_status) as tokens of a letter and
// an id; every other master reads the rows and publishes the same event on
// its own bus, marked fromOtherMaster, so `buildbot watch`, the web's
// event stream and reporters there see every master's builds.
//
//   token    event                 read from
//   c<id>    buildset.created and  the BuildSet and its requests
//            its request.created
//   s<id>    build.started         the build (and its request)
//   t<id>    step.started          the step, its build and its stdio log
//   u<id>    step.finished         the step and its build
//   f<id>    build.finished        the build
//   l<id>.<first>.<end>.<newlines>
//            log.lines             the log, its step and build (once per
//                                  log; the range is in the token)
//
// The relayed event has the keys and data of the local one (the tests
// compare them), with the time it was heard. A token's rows are read and
// its event published only while a subscriber here may take events of
// its type from other masters (a `buildbot watch`, an event stream, a
// reporter, a trigger step): a master nobody watches pays nothing but
// the notification.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "master/events/event.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class EventBus;

class StatusRelay {
 public:
  StatusRelay(db::Database& db, EventBus& events) : db_(db), events_(events) {}

  // The token for a local event worth relaying, or nullopt.
  static std::optional<std::string> tokenFor(const Event& e);
  // Whether every master on the database publishes events of type `t`,
  // wherever they happened: the ones relayed here, request.created with
  // its BuildSet's, and buildset.completed (bb_buildset_done).
  static bool heardEverywhere(EventType t);
  // The id of the row `e` is about: its BuildSet, request, build, step or log
  // (0 for a type heardEverywhere() does not name).
  static std::int64_t rowIdOf(const Event& e);

  // Publishes the event(s) a heard token names. Returns false, with the
  // reason in `why`, when the token is malformed or its rows are missing.
  // Throws what the database throws.
  bool relay(const std::string& token, std::string& why);
  // Whether a subscriber here may take any relayed type from another
  // master: whether this master wants the others' bb_status at all.
  bool anyMayBeWanted() const;

 private:
  bool build(EventType type, std::int64_t buildId, std::string& why);
  bool step(EventType type, std::int64_t stepId, std::string& why);
  bool buildset(std::int64_t buildsetId, std::string& why);
  bool logLines(const std::string& token, std::string& why);
  // Whether a subscriber here may take `type` from another master.
  bool mayBeWanted(EventType type) const;

  db::Database& db_;
  EventBus& events_;
  // Log id -> its log.lines events' keys (and data but the range), read
  // once per log; forgotten when its step finishes, and all at once past
  // a bound.
  struct LogKeys {
    Event event;
    std::int64_t stepId = 0;
  };
  std::map<std::int64_t, LogKeys> logKeys_;
};

}  // namespace bb
