#pragma once
// upload_file / upload_directory: a file, or a directory as a tar stream
// (zstd), from the slave's workdir to the master's artifact store
// (DIR/artifacts/BUILDER/NUMBER/ARTIFACT), recorded with its size and
// SHA-256. The bytes come as the command's data stream and are credited
// back once written, like log output. Caps: `max_size` (per file; for a
// directory the files' total, and the stored archive may be up to 1 MiB
// larger) and master.artifacts_max_build_size (per build); passing one
// stops the transfer and stores nothing.
#include <memory>

#include "master/artifacts/artifact_store.hpp"
#include "master/process/steps/transfer_step.hpp"

namespace bb {

class UploadStep : public TransferStep {
 public:
  UploadStep(StepConfig cfg, bool directory) : TransferStep(std::move(cfg), directory) {}

 protected:
  void begin() override;
  void onSuccess(const CommandOutcome& o) override;
  void release() override { writer_.reset(); }

 private:
  void onData(std::string_view data);

  std::unique_ptr<ArtifactWriter> writer_;
  std::int64_t limit_ = 0;  // bytes that may be stored
};

struct UploadFileStep : UploadStep {
  explicit UploadFileStep(const StepConfig& c) : UploadStep(c, false) {}
  // Keys: artifact, src (both required), workdir, max_size, mode, keep,
  // halt/flunk/warn_on_failure, locks.
  static void declareType(StepType& t);
};

struct UploadDirectoryStep : UploadStep {
  explicit UploadDirectoryStep(const StepConfig& c) : UploadStep(c, true) {}
  static void declareType(StepType& t);
};

}  // namespace bb
