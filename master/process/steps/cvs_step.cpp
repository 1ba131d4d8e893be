#include "master/process/steps/cvs_step.hpp"

#include <memory>

#include "config/yaml_util.hpp"

namespace bb {

void CvsStep::declareType(StepType& t) {
  t.config.parse = [](cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
    auto o = std::make_shared<SourceOptions>();
    bool ok = readSourceStepKeys(r, p, s, *o, "CVS", {"module"});
    ok = readExtraSourceKey(r, *o, "module", true) && ok;
    s.options = std::move(o);
    return ok;
  };
}

}  // namespace bb
