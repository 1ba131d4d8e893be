#include "master/process/steps/hg_step.hpp"

#include <memory>

#include "config/yaml_util.hpp"

namespace bb {

void HgStep::declareType(StepType& t) {
  t.config.parse = [](cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
    auto o = std::make_shared<SourceOptions>();
    bool ok = readSourceStepKeys(r, p, s, *o, "Mercurial");
    s.options = std::move(o);
    return ok;
  };
}

}  // namespace bb
