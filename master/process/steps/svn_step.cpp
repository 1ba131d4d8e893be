#include "master/process/steps/svn_step.hpp"

#include <memory>

#include "config/yaml_util.hpp"

namespace bb {

void SvnStep::declareType(StepType& t) {
  t.config.parse = [](cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
    auto o = std::make_shared<SvnOptions>();
    bool ok = readSourceStepKeys(r, p, s, *o, "Subversion", {"default_branch"});
    if (auto d = r.string("default_branch")) {
      if (!d->empty() && ((*d)[0] == '-' || (*d)[0] == '/')) {
        r.error(r.markOf("default_branch"),
                "default_branch '" + *d + "' must be a path under repo, e.g. trunk");
        ok = false;
      }
      o->defaultBranch = *d;
    }
    s.options = std::move(o);
    return ok;
  };
}

Json SvnStep::args(const StepContext& ctx) const {
  Json a = SourceStep::args(ctx);
  a["default_branch"] = cfg_.as<SvnOptions>().defaultBranch;
  return a;
}

}  // namespace bb
