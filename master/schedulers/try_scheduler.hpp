#pragma once
// The common part of the try schedulers (try_jobdir, try_userpass): checks
// a try job against the scheduler's config and starts its BuildSet, with
// the patch on the source stamp (docs/try.md). A try BuildSet is never
// collapsed with another; its builds carry owner (who), try_comment and
// try_job_id as properties.
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <utility>
#include <string>

#include "common/try_job.hpp"
#include "master/schedulers/scheduler.hpp"

namespace bb {

// A job the scheduler refuses; what() says why in words for its sender.
struct TryRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class TryScheduler : public Scheduler {
 public:
  bool runsOnOneMaster() const override { return false; }
  // The largest patch a try scheduler takes unless max_patch_bytes says
  // otherwise, and the most it may say: the patch travels to the slave in
  // one RunCommand frame (base64, 1 MiB max_frame).
  static constexpr std::int64_t kDefaultMaxPatch = 512 * 1024;
  static constexpr std::int64_t kMaxMaxPatch = 700 * 1024;

  TryScheduler(SchedulerEntry cfg, SchedulerContext ctx);
  // Own keys: max_patch_bytes.
  static void declareType(SchedulerType& t);

  // Checks `job` (builders on this scheduler, patch size, patch paths,
  // property names) and creates its BuildSet in one transaction; throws
  // TryRefused with the reason, having created nothing. `via` says how it
  // came ("job directory", "user alice") for the reason text. A job whose
  // id already has a BuildSet throws TryRefused too (see duplicateOf).
  NewBuildset submit(const TryJob& job, const std::string& via);
  // The buildset already made for this job id, or 0.
  std::int64_t duplicateOf(const std::string& jobId) const;
  std::int64_t maxPatchBytes() const { return maxPatch_; }
  // Why job `jobId` was refused, if it was among the last kRefusalsKept
  // refusals ("" otherwise): `buildbot try --wait` asks (RPC try_job).
  std::string refusalOf(const std::string& jobId) const;
  static constexpr std::size_t kRefusalsKept = 256;
  // The checks of submit() that need no patch: job fields, builders this
  // scheduler lists, property names ("" or the problem); and the patch
  // size against max_patch_bytes.
  std::string headerProblem(const TryJob& job) const;
  std::string sizeProblem(std::int64_t patchBytes) const;
  // Counts and remembers a refusal of `jobId`; the exception to throw.
  TryRefused refusal(const std::string& jobId, const std::string& why);
  // {builders, max_patch_bytes, accepted, refused}.
  Json describe() const override;

 protected:
  std::int64_t maxPatch_ = kDefaultMaxPatch;
  void noteRefusal(const std::string& jobId, const std::string& why);
  std::int64_t accepted_ = 0, refused_ = 0;
  std::deque<std::pair<std::string, std::string>> refusals_;
};

}  // namespace bb
