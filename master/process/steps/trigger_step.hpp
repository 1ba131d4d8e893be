#pragma once
// trigger: runs on the master, not on the slave. It starts one
// BuildSet per listed triggerable scheduler (all committed together, each
// naming the parent build), writes a short log naming them, and then either
// ends at once (SUCCESS) or, with wait_for_finish, waits for every one of
// them and takes the worst of their results.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/interpolate.hpp"
#include "common/results.hpp"
#include "master/db/records.hpp"
#include "master/process/step.hpp"

namespace bb {

struct TriggerOptions : StepOptions {
  std::vector<std::string> schedulers;  // triggerable schedulers, non-empty
  bool waitForFinish = false;
  Json setProperties = Json::object();  // string values may interpolate
  std::vector<std::string> copyProperties;
  bool updateSourceStamp = true;  // build the parent's got_revision if it has one
};

// The build whose step triggers.
struct TriggerParent {
  std::int64_t buildId = 0;
  std::string builder;
  int number = 0;
  db::SourceStamp sourcestamp;  // of the parent's own BuildSet
};

class TriggerStep : public Step, public std::enable_shared_from_this<TriggerStep> {
 public:
  explicit TriggerStep(StepConfig cfg) : cfg_(std::move(cfg)), opts_(cfg_.as<TriggerOptions>()) {}
  // Its keys: schedulers (required; each of a triggerable type),
  // wait_for_finish, set_properties, copy_properties, update_source_stamp,
  // halt/flunk/warn_on_failure, locks.
  static void declareType(StepType& t);

  // Triggers; `done` follows (possibly before start() returns). A
  // scheduler that is not a configured triggerable one, a master without
  // schedulers or a set_properties value that does not interpolate gives
  // EXCEPTION and triggers nothing. A failed child is the step's failure,
  // weighed by its flunk/warn settings.
  void start(StepContext& ctx, Done done) override;
  // Stops waiting and ends the step (interrupted); the triggered builds go on.
  void interrupt(const std::string& reason) override;
  // {type, name, state: triggering|waiting|done, waiting_for: [BuildSet ids]}.
  Json describe() const override;

  // The child BuildSet's properties ({name: [value, "Trigger"]}): the
  // copied and set properties and the parent_* links. Throws
  // InterpolationError for a set_properties value that does not expand.
  static Json childProperties(const TriggerOptions& step, const TriggerParent& parent,
                              const Properties& parentProps, std::string& notes);
  // The child's source stamp: the parent's, at its got_revision when
  // update_source_stamp is on and the parent has one.
  static db::SourceStamp childSourceStamp(const TriggerOptions& step, const TriggerParent& parent,
                                          const Properties& parentProps);

 private:
  // A BuildSet this step waits for has completed (ignored if it is not
  // one it still waits for).
  void onBuildsetComplete(const db::BuildsetRecord& bs);
  void stopWaiting();
  void end(StepOutcome out);

  StepConfig cfg_;
  const TriggerOptions& opts_;
  StepContext* ctx_ = nullptr;
  Done done_;
  std::map<std::int64_t, std::uint64_t> waits_;  // BuildSet id -> event subscription
  Result worst_ = Result::Success;
  std::string worstText_;
  bool starting_ = false;
  bool ended_ = false;
};

}  // namespace bb
