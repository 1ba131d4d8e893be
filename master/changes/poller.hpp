#pragma once
// The common part of every polling change source: poll at start and then
// every `interval` seconds, one poll at a time, and one failure path. A
// poll that fails (the VCS command failed, the worker threw, the database
// refused) is logged, kept for status, and retried with a back-off that
// doubles with each failure in a row (interval, 2x, 4x ... at most an
// hour); the next success resets it.
#include <chrono>
#include <string>
#include <vector>
#include <memory>
#include <optional>
#include <string>

#include "master/changes/change_source.hpp"

namespace bb {

class Poller : public ChangeSource {
 public:
  static constexpr std::chrono::seconds kMaxBackoff{3600};

  Poller(ChangeSourceEntry cfg, ChangeSourceServices& services);
  ~Poller() override;

  void start() override;
  void stop() override;
  const ChangeSourceEntry& config() const override { return cfg_; }
  // {name, type, interval, polls, last_poll_at, last_success_at,
  // next_poll_at, failures, last_error, last_poll_ms}: times in unix
  // seconds; last_poll_ms is how long the last poll took.
  Json describe() const override;

  int failures() const { return failures_; }

  // A commit and a branch as a poll of a system with named branch heads
  // (git, hg) saw them.
  struct Commit {
    std::string revision, author, comments;
    std::int64_t when = 0;
    std::vector<std::string> files;
  };
  struct BranchResult {
    std::string branch, head;
    // Oldest first. Empty on the first sight of a branch (it is only
    // remembered), unless the type reports a new branch's commits.
    std::vector<Commit> commits;
    std::string error;
  };

 protected:
  // Records a poll of branch heads: a branch seen for the first time is
  // remembered and builds nothing (unless it comes with commits: a new
  // branch the type wants built); on a known branch each new commit is a
  // change, and the branch's stored head moves with each change in the
  // same transaction (a crash part way never repeats one). Returns the
  // branches' errors joined, "" when there were none.
  std::string recordBranches(const std::vector<BranchResult>& results);

  // Starts one poll. The type must call pollDone() exactly once, on the
  // master thread, unless it throws (a throw counts as a failed poll).
  virtual void doPoll() = 0;
  // Ends the poll: "" for success, else what went wrong.
  void pollDone(const std::string& error);
  // Runs `fn` on the worker, then `then(result)` back on the master
  // thread; a throw on either side ends the poll as failed. Nothing runs
  // once the poller is destroyed.
  void offload(std::function<void()> work, std::function<void()> then);

  ChangeSourceEntry cfg_;
  ChangeSourceServices& services_;

 private:
  void pollNow();
  void arm(std::chrono::seconds after);
  std::int64_t unixNow() const;

  std::unique_ptr<Timer> timer_;
  bool polling_ = false;
  bool stopped_ = false;
  int failures_ = 0;
  std::uint64_t polls_ = 0;
  std::string lastError_;
  std::int64_t lastPollAt_ = 0, lastSuccessAt_ = 0, nextPollAt_ = 0;
  std::chrono::steady_clock::time_point pollStarted_;
  double lastPollMs_ = 0;  // how long the last poll took, start to done
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bb
