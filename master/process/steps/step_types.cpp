// The step types: one line each. A type's file fills its entry (the
// config check of its keys) in its static declareType(StepType&).
#include "master/process/step.hpp"
#include "master/process/steps/brz_step.hpp"
#include "master/process/steps/cvs_step.hpp"
#include "master/process/steps/darcs_step.hpp"
#include "master/process/steps/download_step.hpp"
#include "master/process/steps/git_step.hpp"
#include "master/process/steps/hg_step.hpp"
#include "master/process/steps/shell_step.hpp"
#include "master/process/steps/svn_step.hpp"
#include "master/process/steps/tla_step.hpp"
#include "master/process/steps/trigger_step.hpp"
#include "master/process/steps/upload_step.hpp"

namespace bb {

namespace {

template <class T>
StepType stepType(const char* name) {
  StepType t;
  t.config.name = name;
  t.make = [](const StepConfig& c) -> std::shared_ptr<Step> { return std::make_shared<T>(c); };
  T::declareType(t);
  return t;
}

}  // namespace

const std::vector<StepType>& stepTypes() {
  static const std::vector<StepType> types{
      stepType<ShellStep>("shell"),
      stepType<GitStep>("git"),
      stepType<HgStep>("hg"),
      stepType<SvnStep>("svn"),
      stepType<DarcsStep>("darcs"),
      stepType<BrzStep>("brz"),
      stepType<CvsStep>("cvs"),
      stepType<TlaStep>("tla"),
      stepType<TriggerStep>("trigger"),
      stepType<UploadFileStep>("upload_file"),
      stepType<UploadDirectoryStep>("upload_directory"),
      stepType<DownloadFileStep>("download_file"),
      stepType<DownloadDirectoryStep>("download_directory"),
  };
  return types;
}

const StepType* findStepType(const std::string& name) {
  for (const auto& t : stepTypes())
    if (t.name() == name) return &t;
  return nullptr;
}

}  // namespace bb
