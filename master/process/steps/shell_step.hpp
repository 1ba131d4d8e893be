#pragma once
// shell: runs a command on the slave, as an argv list (no shell) or as a
// string run by /bin/sh -c, in the step's workdir with its env; every
// argument may interpolate build properties.
#include <map>
#include <string>
#include <vector>

#include "master/process/steps/remote_step.hpp"

namespace bb {

struct ShellOptions : RemoteStepOptions {
  std::vector<std::string> argv;  // argv form (no shell)
  std::string command;            // string form, run by /bin/sh -c
  std::map<std::string, std::string> env;
  int maxSilence = 0;  // seconds without output; 0 = none
};

class ShellStep : public RemoteStep {
 public:
  using RemoteStep::RemoteStep;
  // Its keys: command (required), workdir, env, timeout, max_silence,
  // halt/flunk/warn_on_failure, locks.
  static void declareType(StepType& t);

 protected:
  std::string kind() const override { return "shell"; }
  Json args(const StepContext& ctx) const override;
};

}  // namespace bb
