#pragma once
// Creates BuildSets (one BuildRequest per builder) and tells the
// distributor once they are committed; collapses older requests on
// builders that opted in; cancels and re-prioritises pending requests; and
// announces every BuildSet completion to whoever listens.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

struct NewBuildset {
  std::int64_t id = 0;
  std::map<std::string, std::int64_t> requests;  // builder -> request id
};

class BuildsetService {
 public:
  using CompletionListener = std::function<void(const db::BuildsetRecord&)>;

  BuildsetService(db::Database& db, std::function<void()> wake) : db_(db), wake_(std::move(wake)) {}

  // Builders whose requests collapse (collapse_requests: true); set on
  // every (re)config.
  void setCollapsingBuilders(std::set<std::string> builders) { collapsing_ = std::move(builders); }

  // Writes the buildset and its requests in one transaction (joining an
  // outer one if open), then wakes the distributor (which runs after the
  // current event, so after the outer commit too). On a collapsing builder
  // the new request replaces older compatible pending ones (SKIPPED).
  // parentBuildId: the build whose trigger step asks for it (0: none).
  NewBuildset create(const std::string& scheduler, const std::string& reason,
                     const db::SourceStamp& ss, const Json& properties,
                     const std::vector<std::string>& builders, int priority,
                     std::int64_t parentBuildId = 0);

  // Cancels a pending request (see Database::cancelRequest); a completed
  // BuildSet is announced.
  db::CancelResult cancel(std::int64_t requestId, const std::string& who);
  // Changes an incomplete request's priority and wakes the distributor;
  // false if it is complete or unknown.
  bool setPriority(std::int64_t requestId, int priority, const std::string& who);

  // Listeners hear of every completed BuildSet once it is written, in the
  // order they were added. A finished build or a cancel announces after its
  // commit; a collapse announces inside the transaction that created the
  // new BuildSet (a change's, when a scheduler made it), so what listeners
  // write (a dependent's BuildSet) commits or rolls back with it.
  // Collapsed BuildSets are never triggered ones, so no trigger waits on them.
  void addCompletionListener(CompletionListener fn) { listeners_.push_back(std::move(fn)); }
  // Announces a completion written by someone else (a finished build).
  void completed(const db::BuildsetCompletion& done);
  // Calls fn once, when BuildSet `buildsetId` completes (after the
  // listeners); returns a token for cancelWait(). The caller checks first
  // whether it is complete already.
  std::uint64_t waitFor(std::int64_t buildsetId, CompletionListener fn);
  // Forgets a wait that has not fired (no effect once it has).
  void cancelWait(std::uint64_t token);

 private:
  std::int64_t nowSeconds() const;

  db::Database& db_;
  std::function<void()> wake_;
  std::set<std::string> collapsing_;
  std::vector<CompletionListener> listeners_;
  // One-shot waits by BuildSet id: token -> callback.
  std::map<std::int64_t, std::map<std::uint64_t, CompletionListener>> waits_;
  std::uint64_t nextWait_ = 1;
};

}  // namespace bb
