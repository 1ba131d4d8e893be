#pragma once
// The trigger step: runs on the master, not on the slave. It starts one
// BuildSet per listed triggerable scheduler (all committed together, each
// naming the parent build), writes a short log naming them, and then either
// ends at once (SUCCESS) or, with wait_for_finish, waits for every one of
// them and takes the worst of their results.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/interpolate.hpp"
#include "common/results.hpp"
#include "config/master_config.hpp"
#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class BuildsetService;
class LogWriter;
class SchedulerSet;

// The build whose step triggers.
struct TriggerParent {
  std::int64_t buildId = 0;
  std::string builder;
  int number = 0;
  db::SourceStamp sourcestamp;  // of the parent's own BuildSet
};

class TriggerStep : public std::enable_shared_from_this<TriggerStep> {
 public:
  // The step's result and its one-line text.
  using Done = std::function<void(Result, const std::string&)>;

  TriggerStep(SchedulerSet& schedulers, BuildsetService& buildsets, db::Database& db,
              const StepConfig& step, LogWriter& log, Done done);

  // Triggers; `done` follows (possibly before start() returns) unless
  // stop() comes first. A scheduler that is not a configured triggerable
  // one, or a set_properties value that does not interpolate, gives
  // EXCEPTION and triggers nothing.
  void start(const TriggerParent& parent, const Properties& parentProps);
  // Stops waiting: `done` is never called; the triggered builds go on.
  void stop();

  // The child BuildSet's properties ({name: [value, "Trigger"]}): the
  // copied and set properties and the parent_* links. Throws
  // InterpolationError for a set_properties value that does not expand.
  static Json childProperties(const StepConfig& step, const TriggerParent& parent,
                              const Properties& parentProps, std::string& notes);
  // The child's source stamp: the parent's, at its got_revision when
  // update_source_stamp is on and the parent has one.
  static db::SourceStamp childSourceStamp(const StepConfig& step, const TriggerParent& parent,
                                          const Properties& parentProps);

 private:
  // A BuildSet this step waits for has completed (ignored if it is not
  // one it still waits for).
  void onBuildsetComplete(const db::BuildsetRecord& bs);
  void end(Result r, const std::string& text);

  SchedulerSet& schedulers_;
  BuildsetService& buildsets_;
  db::Database& db_;
  const StepConfig& step_;
  LogWriter& log_;
  Done done_;
  std::map<std::int64_t, std::uint64_t> waits_;  // BuildSet id -> event subscription
  Result worst_ = Result::Success;
  std::string worstText_;
  bool starting_ = false;
  bool ended_ = false;
};

}  // namespace bb
