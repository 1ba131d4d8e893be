#pragma once
// git: checks out a repository on the slave (clone or fetch, then the
// branch or revision), `incremental` (keep the tree) or `full` (clean it);
// the revision it checked out becomes the build's got_revision.
#include <string>

#include "master/process/steps/remote_step.hpp"

namespace bb {

struct GitOptions : RemoteStepOptions {
  std::string repo;
  std::string branch = "%(prop:branch)s";
  std::string revision = "%(prop:revision)s";
  std::string mode = "incremental";  // incremental | full
};

class GitStep : public RemoteStep {
 public:
  using RemoteStep::RemoteStep;
  // Its keys: repo (required), branch, revision, mode, workdir, timeout, locks.
  static void declareType(StepType& t);

 protected:
  std::string kind() const override { return "git"; }
  Json args(const StepContext& ctx) const override;
  // Records got_revision as a build property (source "Git").
  void onOutcome(StepContext& ctx, const CommandOutcome& o) override;
};

}  // namespace bb
