#pragma once
// The common part of the file transfer steps (upload_file,
// upload_directory, download_file, download_directory): their keys, one
// slave command through StepContext::runTransfer, interrupting it, and
// the outcomes every transfer shares (a lost slave is RETRY, a refusal
// or a command error FAILURE with the reason in the log).
#include <cstdint>
#include <optional>
#include <string>

#include "master/process/step.hpp"

namespace bb {

namespace cfg {
class MapReader;
struct MasterParse;
}  // namespace cfg

struct TransferOptions : StepOptions {
  std::string workdir = "build";  // under the builder's directory; may interpolate
  std::string artifact;           // the artifact's name; may interpolate
  std::string path;               // upload: src; download: dest (in the workdir); may interpolate
  std::int64_t maxSize = std::int64_t{1} << 30;  // bytes
  int mode = -1;                  // file permissions; -1: 0644 (upload) / the artifact's (download)
  int keep = 0;                   // upload: keep this many builds' artifacts of this name (0: all)
  std::string build;              // download: the build id (may interpolate); "": this build
  // download: instead of `build`, the build of this builder in the
  // upstream BuildSet (a dependent scheduler's, or a trigger step's).
  std::string fromBuilder;
};

// Reads a transfer step's keys; `pathKey` is "src" or "dest".
bool readTransferKeys(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s, bool upload);

class TransferStep : public Step, public std::enable_shared_from_this<TransferStep> {
 public:
  TransferStep(StepConfig cfg, bool directory) : cfg_(std::move(cfg)), directory_(directory) {}
  void start(StepContext& ctx, Done done) override;
  void interrupt(const std::string& reason) override;
  // {type, name, command_id, state, artifact, bytes}.
  Json describe() const override;

 protected:
  // Checks, then starts the command (run()) or ends the step (refuse()).
  virtual void begin() = 0;
  // The command ended (not lost, not interrupted, no error).
  virtual void onSuccess(const CommandOutcome& o) = 0;
  // Drops what the step holds (a temporary artifact, an open file).
  virtual void release() {}

  std::int64_t run(const std::string& kind, Json args, TransferHandlers h);
  // Ends the step once: `text` goes to the log and the step row.
  void end(Result r, const std::string& text);
  // Refused before anything was written: FAILURE "refused: WHY".
  void refuse(const std::string& why) { end(Result::Failure, "refused: " + why); }
  // Stops the running command for `why` (a cap passed, a write failed):
  // the step then ends FAILURE with `why` whatever the slave reports.
  void abort(const std::string& why);
  const TransferOptions& options() const { return cfg_.as<TransferOptions>(); }
  std::string workdir() const;

  StepConfig cfg_;
  bool directory_;
  StepContext* ctx_ = nullptr;
  std::int64_t cmdId_ = 0;
  std::string artifactName_;
  std::int64_t bytes_ = 0;  // moved so far

 private:
  void onDone(const CommandOutcome& o);

  Done done_;
  std::optional<std::string> interruptReason_;
  std::optional<std::string> abortReason_;
  bool ended_ = false;
};

}  // namespace bb
