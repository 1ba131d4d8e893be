#pragma once
// download_file / download_directory: an artifact from the master's store
// to the slave's workdir, in FileData chunks within the window the slave
// grants (FileCredit), read from the file 64 KiB at a time. The artifact is
// named by `artifact` and `build` (a build id, e.g.
// "%(prop:parent_build_id)s" in a triggered build; default this build) or
// `builder` (that builder's build in the upstream BuildSet: the one named
// by the upstream_buildset_id property a dependent scheduler sets, else
// the BuildSet of the parent_build_id build of a triggered build).
// Refused on the master before anything is sent: an unknown artifact, a
// kind that does not match the step, a size over `max_size`.
#include <optional>
#include <string>

#include "master/db/records.hpp"

#include "master/process/steps/transfer_step.hpp"

namespace bb {

class DownloadStep : public TransferStep {
 public:
  DownloadStep(StepConfig cfg, bool directory) : TransferStep(std::move(cfg), directory) {}
  ~DownloadStep() override;

 protected:
  void begin() override;
  void onSuccess(const CommandOutcome& o) override;
  void release() override;

 private:
  void onFileCredit(std::int64_t bytes);
  // The build `builder:` names, or nullopt with `why`.
  std::optional<db::BuildRecord> upstreamBuild(const std::string& builder, std::string& why);

  int fd_ = -1;
  std::int64_t size_ = 0;
  std::int64_t window_ = 0;
  bool eofSent_ = false;
};

struct DownloadFileStep : DownloadStep {
  explicit DownloadFileStep(const StepConfig& c) : DownloadStep(c, false) {}
  // Keys: artifact, dest (both required), build or builder, workdir, max_size, mode,
  // halt/flunk/warn_on_failure, locks.
  static void declareType(StepType& t);
};

struct DownloadDirectoryStep : DownloadStep {
  explicit DownloadDirectoryStep(const StepConfig& c) : DownloadStep(c, true) {}
  static void declareType(StepType& t);
};

}  // namespace bb
