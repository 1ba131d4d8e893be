#pragma once
// git_poller: watches branches of a git repository (any URL git can fetch,
// or a local path) and turns each new commit into a Change. It keeps a bare
// mirror in the master directory; the last seen revision per branch is
// stored in the same transaction as the changes it produced, so a restart
// never repeats or loses a change. Git runs on a worker thread.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "config/master_config.hpp"
#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class ChangeBus;

class GitPoller {
 public:
  using Offload = std::function<void(std::function<void()> work)>;  // runs on a worker
  using Post = std::function<void(std::function<void()> fn)>;       // back to the master

  GitPoller(ChangeSourceEntry cfg, std::string masterDir, db::Database& db, ChangeBus& bus,
            Clock& clock, Offload offload, Post post);
  ~GitPoller();

  // Polls at once, then every interval seconds.
  void start();
  void stop();
  const ChangeSourceEntry& config() const { return cfg_; }

  // One poll's findings, computed off-thread.
  struct Commit {
    std::string revision, author, comments;
    std::int64_t when = 0;
    std::vector<std::string> files;
  };
  struct BranchResult {
    std::string branch, head;
    std::vector<Commit> commits;  // oldest first; empty on the first sight of a branch
    std::string error;
  };

 private:
  void poll();
  void onPolled(std::vector<BranchResult> results);
  std::string repoUrl() const;

  ChangeSourceEntry cfg_;
  std::string masterDir_;
  db::Database& db_;
  ChangeBus& bus_;
  Clock& clock_;
  Offload offload_;
  Post post_;
  std::unique_ptr<Timer> timer_;
  bool polling_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bb
