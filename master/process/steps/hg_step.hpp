#pragma once
// hg: checks out a Mercurial repository on the slave (the slave's `hg`
// command, slave/vcs/hg.hpp): the build's branch ("default" when none)
// at its revision (the newest when none); got_revision is the node id.
#include "master/process/steps/source_step.hpp"

namespace bb {

class HgStep : public SourceStep {
 public:
  using SourceStep::SourceStep;
  // Its keys: repo (required), branch, revision, mode, method, workdir,
  // timeout, locks.
  static void declareType(StepType& t);

 protected:
  std::string kind() const override { return "hg"; }
  std::string propertySource() const override { return "Mercurial"; }
};

}  // namespace bb
