#pragma once
// darcs: checks out a Darcs repository on the slave (slave/vcs/darcs.hpp).
// A Darcs branch is another repository: the URL is repo + "/" + the build's
// branch, or + default_branch (default "": repo itself) when it names none.
#include "master/process/steps/source_step.hpp"

namespace bb {

class DarcsStep : public SourceStep {
 public:
  using SourceStep::SourceStep;
  // Its keys: repo (required), branch, default_branch, revision (a patch hash), mode,
  // method, workdir, timeout, locks.
  static void declareType(StepType& t);

 protected:
  std::string kind() const override { return "darcs"; }
  std::string propertySource() const override { return "Darcs"; }
};

}  // namespace bb
