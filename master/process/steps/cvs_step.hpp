#pragma once
// cvs: checks out a module of a CVS repository on the slave
// (slave/vcs/cvs.hpp): repo is the CVSROOT, module the module, the branch
// a tag for -r (none: the trunk), the revision a date for -D.
#include "master/process/steps/source_step.hpp"

namespace bb {

class CvsStep : public SourceStep {
 public:
  using SourceStep::SourceStep;
  // Its keys: repo (required), module (required), branch, revision, mode,
  // method, workdir, timeout, locks.
  static void declareType(StepType& t);

 protected:
  std::string kind() const override { return "cvs"; }
  std::string propertySource() const override { return "CVS"; }
};

}  // namespace bb
