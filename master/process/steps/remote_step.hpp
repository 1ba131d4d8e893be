#pragma once
// The common part of steps that run one command on the slave (shell, git):
// start the command through the build, map its outcome to the step's
// result (halt/flunk/warn settings, timeouts, signals, a lost slave), and
// interrupt it. A type derives from RemoteStep and gives the command's
// kind and arguments.
#include <cstdint>
#include <optional>
#include <string>

#include "master/process/step.hpp"

namespace bb {

namespace cfg {
class MapReader;
struct MasterParse;
}  // namespace cfg

// The options every remote step has.
struct RemoteStepOptions : StepOptions {
  std::string workdir = "build";  // under the builder's directory; may interpolate
  int timeout = 1200;             // seconds of total run time; 0 = none
};

// Reads the keys every remote step has: workdir, timeout and locks.
void readRemoteStepKeys(const cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s,
                        RemoteStepOptions& o);

class RemoteStep : public Step, public std::enable_shared_from_this<RemoteStep> {
 public:
  explicit RemoteStep(StepConfig cfg) : cfg_(std::move(cfg)) {}
  // Starts the command; throws InterpolationError if its arguments do not
  // expand (nothing started).
  void start(StepContext& ctx, Done done) override;
  // Sends Interrupt (if the slave is connected; a lost slave ends the
  // command anyway) and notes it in the log.
  void interrupt(const std::string& reason) override;
  // {type, name, command_id, state: running|interrupting|done}.
  Json describe() const override;

 protected:
  // The slave's command kind ("shell", "git").
  virtual std::string kind() const = 0;
  // The command's arguments, expanded with the build's properties.
  virtual Json args(const StepContext& ctx) const = 0;
  // Sees the outcome before it becomes the step's result (git: got_revision).
  virtual void onOutcome(StepContext& ctx, const CommandOutcome& o) {}
  // "<builder>/<workdir expanded>": every builder has its own folder.
  static std::string workdir(const StepContext& ctx, const RemoteStepOptions& o);

  StepConfig cfg_;

 private:
  void onDone(const CommandOutcome& o);

  StepContext* ctx_ = nullptr;
  Done done_;
  std::int64_t cmdId_ = 0;
  std::optional<std::string> interruptReason_;
  bool ended_ = false;
};

}  // namespace bb
