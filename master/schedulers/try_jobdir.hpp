#pragma once
// try_jobdir: takes try jobs from a maildir-style job directory
// (`buildbot tryserver` writes them: tmp/ then new/). It watches new/
// (master/schedulers/dir_watch.hpp), and for each job file, oldest name
// first: reads it (ours or Buildbot's format, docs/try.md), checks it,
// creates its BuildSet and only then moves the file to cur/. A job whose id
// already has a BuildSet (the master died between the commit and the move)
// is moved to cur/ without a second build. A malformed or refused job goes
// to bad/, with NAME.reason beside it and a log line saying why. Jobs
// already in new/ at start are processed.
#include <cstdint>
#include <memory>
#include <string>

#include "master/schedulers/dir_watch.hpp"
#include "master/schedulers/try_scheduler.hpp"

namespace bb {

class TryJobdirScheduler : public TryScheduler {
 public:
  // Jobs handled per turn of the event loop; the rest follow at once.
  static constexpr int kJobsPerTurn = 32;
  // Test hook: with this variable set to 1 in its environment, the master
  // kills itself (SIGKILL) right after a job's BuildSet is committed and
  // before the file moves to cur/ (tests/functional/try_test.cpp).
  static constexpr const char* kKillAfterCommitEnv = "BB_TEST_TRY_KILL_AFTER_COMMIT";

  TryJobdirScheduler(SchedulerEntry cfg, SchedulerContext ctx);
  // Own keys: jobdir (required; relative to the master's directory),
  // poll_interval (seconds, when inotify is not available), max_patch_bytes.
  static void declareType(SchedulerType& t);
  void start() override;
  void stop() override;
  // The job directory (absolute).
  const std::string& jobdir() const { return jobdir_; }
  // Handles up to kJobsPerTurn files of new/, then schedules another turn
  // if some are left.
  void scan();
  Json describe() const override;

 private:
  void handleJob(const std::string& name);
  // Moves new/NAME to bad/NAME and writes the reason beside it.
  void moveToBad(const std::string& name, const std::string& why);
  bool moveTo(const std::string& name, const char* sub);

  std::string jobdir_;
  std::chrono::milliseconds pollInterval_{10000};
  std::unique_ptr<DirWatch> watch_;
  std::unique_ptr<Timer> more_;  // the next turn of a long scan
  bool stopped_ = true;
};

}  // namespace bb
