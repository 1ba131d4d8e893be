#pragma once
// git_poller: watches branches of a git repository (any URL git can fetch,
// or a local path) and turns each new commit into a Change. `branches` are
// names or glob patterns; a branch that newly matches a pattern after the
// first poll builds its head, and joins the watched list (state
// "branches") in the same transaction. It keeps a bare
// mirror in the master directory; the last seen revision per branch is
// stored in the same transaction as the changes it produced, so a restart
// never repeats or loses a change. Git runs on a worker thread; scheduling,
// failures and back-off are the Poller's.
#include <cstdint>
#include <string>
#include <vector>

#include "master/changes/change_source.hpp"
#include "master/changes/poller.hpp"

namespace bb {

class GitPoller : public Poller {
 public:
  GitPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services);
  // Its keys: repo and branches (required), interval, project, category.
  static void declareType(ChangeSourceType& t);

  // One poll's findings, computed off-thread.

 protected:
  void doPoll() override;

 private:
  // Stores the new commits as changes; returns the branches' errors ("" if
  // none).
  std::string repoUrl() const;
};

}  // namespace bb
