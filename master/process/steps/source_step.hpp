#pragma once
// The common part of the source steps (hg, svn; git has its own older
// shape): the keys every one has (repo, branch, revision, mode, method),
// their config checks, and the RunCommand arguments. The branch and
// revision default to the source stamp's (%(prop:branch)s and
// %(prop:revision)s), so a build checks out what its change names; the
// slave refuses unsafe values again, since properties come from outside.
#include <string>
#include <vector>

#include "master/process/steps/remote_step.hpp"

namespace bb {

struct SourceOptions : RemoteStepOptions {
  std::string repo;
  std::string branch = "%(prop:branch)s";
  std::string revision = "%(prop:revision)s";
  std::string mode = "incremental";  // incremental | full
  std::string method = "clobber";    // with full: clobber | fresh | clean | copy
  Json extra = Json::object();       // a type's own literal keys, passed on as they are
};

// Reads the keys of a source step into `o` (r.allowKeys with `extraKeys`
// too); false if a required one is missing or bad. `vcs` names the system
// in messages ("a Mercurial URL").
bool readSourceStepKeys(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s, SourceOptions& o,
                        const std::string& vcs, const std::vector<std::string>& extraKeys = {});

// A try build's patch into RunCommand `args` (`patch: {level,
// body_base64}`), shown as the step's `patch` log; nothing for other
// builds. Every source step (git, hg, svn) calls it.
void addTryPatch(const StepContext& ctx, Json& args);

// Reads a type's own literal key (no interpolation) into o.extra: `def`
// when absent (unless required); a value starting with '-' is refused.
// False if required and missing, or refused.
bool readExtraSourceKey(cfg::MapReader& r, SourceOptions& o, const std::string& key, bool required,
                        const std::string& def = "");

class SourceStep : public RemoteStep {
 public:
  using RemoteStep::RemoteStep;

 protected:
  // {repo, branch, revision, mode, method, workdir, timeout}, expanded, and
  // a try build's patch.
  Json args(const StepContext& ctx) const override;
  // Records got_revision as a build property, its source propertySource().
  void onOutcome(StepContext& ctx, const CommandOutcome& o) override;
  virtual std::string propertySource() const = 0;
};

}  // namespace bb
