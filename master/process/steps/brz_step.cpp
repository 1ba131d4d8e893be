#include "master/process/steps/brz_step.hpp"

#include <memory>

#include "config/yaml_util.hpp"

namespace bb {

void BrzStep::declareType(StepType& t) {
  t.config.parse = [](cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
    auto o = std::make_shared<SourceOptions>();
    bool ok = readSourceStepKeys(r, p, s, *o, "Breezy", {"default_branch"});
    ok = readExtraSourceKey(r, *o, "default_branch", false) && ok;
    s.options = std::move(o);
    return ok;
  };
}

}  // namespace bb
