#include "master/process/steps/tla_step.hpp"

#include <memory>

#include "config/yaml_util.hpp"

namespace bb {

void TlaStep::declareType(StepType& t) {
  t.config.parse = [](cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
    auto o = std::make_shared<SourceOptions>();
    bool ok = readSourceStepKeys(r, p, s, *o, "Arch", {"archive", "default_branch"});
    ok = readExtraSourceKey(r, *o, "archive", true) && ok;
    ok = readExtraSourceKey(r, *o, "default_branch", false) && ok;
    s.options = std::move(o);
    return ok;
  };
}

}  // namespace bb
