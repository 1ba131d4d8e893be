#pragma once
// Which master reports what, when several masters share the database
// (docs/multimaster.md, "Reporters"). Every master's reporters hear of every
// master's builds (the status events are relayed, cluster/status_relay.hpp),
// so a reporter configured on one master only still reports the builds the
// others run; and a reporter configured on every master reports each build
// once: before acting on an event it claims (reporter, event) in the
// database, and only the master whose claim made the row goes on.
#include <cstdint>
#include <string>

#include "master/db/records.hpp"
#include "master/events/event.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class Clock;

class ReportClaims {
 public:
  ReportClaims(db::Database& db, db::MasterId self, Clock& clock) : db_(db), self_(self), clock_(clock) {}

  // Whether this master reports `e` for the reporter `reporter`. An event
  // no other master hears of (a log line, a slave) is always this master's;
  // a relayed kind is this master's if its claim wins. A claim the database
  // cannot answer counts as won, with a log line: a report sent twice is
  // better than none. Claims older than a day are deleted, at most once an
  // hour, by the next claim.
  bool mine(const std::string& reporter, const Event& e);

  // "build.finished 42": what is claimed for `e`; "" for a kind that is
  // never relayed.
  static std::string subjectOf(const Event& e);

 private:
  db::Database& db_;
  db::MasterId self_;
  Clock& clock_;
  std::int64_t lastPrune_ = 0;
};

}  // namespace bb
