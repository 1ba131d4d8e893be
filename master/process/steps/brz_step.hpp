#pragma once
// brz: checks out a Bazaar/Breezy branch on the slave (slave/vcs/brz.hpp).
// The branch URL is repo + "/" + the build's branch, or + default_branch
// (default "": repo itself) when it names none; got_revision is the
// revision id.
#include "master/process/steps/source_step.hpp"

namespace bb {

class BrzStep : public SourceStep {
 public:
  using SourceStep::SourceStep;
  // Its keys: repo (required), branch, default_branch, revision, mode, method,
  // workdir, timeout, locks.
  static void declareType(StepType& t);

 protected:
  std::string kind() const override { return "brz"; }
  std::string propertySource() const override { return "Breezy"; }
};

}  // namespace bb
