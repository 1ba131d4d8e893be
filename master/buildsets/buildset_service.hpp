#pragma once
// Creates BuildSets (one BuildRequest per builder); collapses older
// requests on builders that opted in; cancels and re-prioritises pending
// requests. Every change it makes is announced on the EventBus
// (buildset.created/completed, request.created/collapsed/cancelled/
// priority), which publishes only once the change is committed: that is
// how the distributor wakes, dependent schedulers and trigger steps hear
// of completions, and clients follow a BuildSet.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class EventBus;

struct NewBuildset {
  std::int64_t id = 0;
  std::map<std::string, std::int64_t> requests;  // builder -> request id
};

class BuildsetService {
 public:
  BuildsetService(db::Database& db, EventBus& events) : db_(db), events_(events) {}

  // Builders whose requests collapse (collapse_requests: true); set on
  // every (re)config.
  void setCollapsingBuilders(std::set<std::string> builders) { collapsing_ = std::move(builders); }

  // Writes the buildset and its requests in one transaction (joining an
  // outer one if open). On a collapsing builder the new request replaces
  // older compatible pending ones (SKIPPED, replaced_by set); a BuildSet
  // that this completes is announced like any completion.
  // parentBuildId: the build whose trigger step asks for it (0: none).
  NewBuildset create(const std::string& scheduler, const std::string& reason,
                     const db::SourceStamp& ss, const Json& properties,
                     const std::vector<std::string>& builders, int priority,
                     std::int64_t parentBuildId = 0);

  // Cancels a pending request (see Database::cancelRequest).
  db::CancelResult cancel(std::int64_t requestId, const std::string& who);
  // Changes an incomplete request's priority; false if it is complete or
  // unknown.
  bool setPriority(std::int64_t requestId, int priority, const std::string& who);

  // Announces a completion written by someone else (a finished build), in
  // its transaction or after.
  void completed(const db::BuildsetCompletion& done);

  // Another master completed the BuildSet: buildset.completed goes on
  // this master's bus too, marked fromOtherMaster. False if it is unknown
  // or not complete. While nothing here may take it (no dependent
  // scheduler, trigger wait, watcher or reporter of other masters' work)
  // the BuildSet is not even read, and that counts as done.
  bool completedElsewhere(std::int64_t buildsetId);
  EventBus& events() { return events_; }

 private:
  std::int64_t nowSeconds() const;

  db::Database& db_;
  EventBus& events_;
  std::set<std::string> collapsing_;
};

}  // namespace bb
