#pragma once
// svn: checks out a Subversion branch on the slave (slave/vcs/svn.hpp).
// The checkout URL is repo (the repository's base URL) + "/" + the
// build's branch, or + default_branch when the build names none.
#include "master/process/steps/source_step.hpp"

namespace bb {

struct SvnOptions : SourceOptions {
  std::string defaultBranch = "trunk";  // "" = check out repo itself
};

class SvnStep : public SourceStep {
 public:
  using SourceStep::SourceStep;
  // Its keys: repo (required), branch, default_branch, revision, mode,
  // method, workdir, timeout, locks.
  static void declareType(StepType& t);

 protected:
  std::string kind() const override { return "svn"; }
  std::string propertySource() const override { return "Subversion"; }
  Json args(const StepContext& ctx) const override;
};

}  // namespace bb
