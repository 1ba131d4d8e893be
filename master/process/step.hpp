#pragma once
// One step of a build, behind one interface. Build runs every step the
// same way (its row and `stdio` log, its locks, its result weighed by
// halt/flunk/warn) and knows no step type: a step is started with a
// StepContext giving the build's services, can be interrupted, and says
// what it is doing. Types are registered in one place
// (steps/step_types.cpp): a name, the config check of its keys and a
// factory; each type lives in its own file under steps/.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/interpolate.hpp"
#include "common/message.hpp"  // Json
#include "common/results.hpp"
#include "config/config_kinds.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class ArtifactStore;
class BuildsetService;
class Clock;
class EventBus;
class LogWriter;
class RemoteSlave;
class SchedulerSet;
struct CommandOutcome;

// What a file transfer step adds to a remote command.
struct TransferHandlers {
  // An upload's bytes (Output on the data stream): the step stores them and
  // credits them back to the slave itself (RemoteSlave::credit).
  std::function<void(std::string_view)> onData;
  // A download's FileCredit from the slave: `bytes` more may be sent.
  std::function<void(std::int64_t)> onFileCredit;
};

// What a running step may use: its build and the build's services. It is
// valid from start() until the step's `done` has run (or the build ended).
struct StepContext {
  std::int64_t buildId = 0;
  std::string builder;  // the builder's name
  int number = 0;       // the build's number
  std::int64_t buildsetId = 0;
  const StepConfig& config;
  RemoteSlave* slave;  // the build's slave (null only where no slave runs, in tests)
  Properties& props;   // the build's properties, for interpolation
  LogWriter& log;      // the step's `stdio` log
  db::Database& db;
  Clock& clock;
  // What trigger-like steps start BuildSets with; null on a master without
  // schedulers.
  SchedulerSet* schedulers = nullptr;
  BuildsetService* buildsets = nullptr;
  EventBus* events = nullptr;
  // Runs one remote command on the slave: its output goes to `log`, and
  // the slave is credited once it is stored; `done` gets its outcome.
  // Returns the command id.
  std::function<std::int64_t(const std::string& kind, Json args,
                             std::function<void(const CommandOutcome&)> done)>
      runCommand;
  // Sets a build property and stores the build's properties (a secret's
  // value in it masked).
  std::function<void(const std::string& name, const Json& value, const std::string& source)>
      setProperty;
  // The values %(secret:NAME)s expands to in the fields that may use them
  // (shell command, argv, env; git repo); null: no secrets.
  const SecretValues* secrets = nullptr;
  // The step's row (0 where no step row exists, in tests): a step may add
  // logs of its own beside `stdio` (the git step's `patch`).
  std::int64_t stepId = 0;
  // runCommand for file transfers: the data stream and FileCredit go to
  // the step's handlers, the header lines to its log.
  std::function<std::int64_t(const std::string& kind, Json args, TransferHandlers handlers,
                             std::function<void(const CommandOutcome&)> done)>
      runTransfer;
  // Where artifacts are stored (null: a master without a directory, in
  // tests; transfer steps then end EXCEPTION).
  ArtifactStore* artifacts = nullptr;
};

// How a step ended.
struct StepOutcome {
  Result result = Result::Success;
  std::string text;  // one line for the step row
  // It ended because interrupt() asked: the build then ends as its stop
  // said (RETRY at shutdown, CANCELLED for a user).
  bool interrupted = false;
};

class Step {
 public:
  using Done = std::function<void(const StepOutcome&)>;
  virtual ~Step() = default;
  // Starts the step; `done` follows exactly once, possibly before start()
  // returns. Throws InterpolationError, having started nothing, when its
  // settings do not expand with the build's properties.
  virtual void start(StepContext& ctx, Done done) = 0;
  // Asks the running step to stop: `done` follows with interrupted = true,
  // at once or once the slave confirms (a step whose slave is gone ends
  // when the loss is seen). Ignored once it has ended.
  virtual void interrupt(const std::string& reason) = 0;
  // What it is doing, for status: {type, ...its own fields}.
  virtual Json describe() const = 0;
};

struct StepType {
  StepKind config;  // name and config check (config/config_kinds.hpp)
  std::function<std::shared_ptr<Step>(const StepConfig&)> make;
  const std::string& name() const { return config.name; }
};

// Every step type, in the order messages list them (steps/step_types.cpp).
const std::vector<StepType>& stepTypes();
// The type named `name`, or nullptr.
const StepType* findStepType(const std::string& name);

}  // namespace bb
