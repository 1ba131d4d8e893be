#pragma once
// tla: checks out a GNU Arch version on the slave (slave/vcs/tla.hpp):
// repo is the archive's location, archive its name, the branch a version
// (category--branch--1.0; default_branch when the build names none), the
// revision a patch level.
#include "master/process/steps/source_step.hpp"

namespace bb {

class TlaStep : public SourceStep {
 public:
  using SourceStep::SourceStep;
  // Its keys: repo (required), archive (required), branch, default_branch,
  // revision, mode, method, workdir, timeout, locks.
  static void declareType(StepType& t);

 protected:
  std::string kind() const override { return "tla"; }
  std::string propertySource() const override { return "Arch"; }
};

}  // namespace bb
