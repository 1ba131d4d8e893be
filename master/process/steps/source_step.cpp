#include "master/process/steps/source_step.hpp"

#include "config/yaml_util.hpp"
#include "master/slaves/remote_slave.hpp"

namespace bb {

namespace {

// A literal (no %(...)s) that starts with '-' is refused at load time;
// interpolated values are checked by the slave.
void refuseOptionLike(cfg::MapReader& r, const char* key, const std::string& v) {
  if (!v.empty() && v[0] == '-' && v.find("%(") == std::string::npos)
    r.error(r.markOf(key), std::string(key) + " '" + v +
                               "' starts with '-' and would be read as an option; the slave "
                               "refuses it");
}

}  // namespace

bool readSourceStepKeys(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s, SourceOptions& o,
                        const std::string& vcs, const std::vector<std::string>& extraKeys) {
  std::vector<std::string> keys{"name", "repo",    "branch", "revision", "mode",
                                "method", "workdir", "timeout", "locks"};
  keys.insert(keys.end(), extraKeys.begin(), extraKeys.end());
  r.allowKeys(keys);
  readRemoteStepKeys(r, p, s, o);
  bool ok = true;
  auto repo = r.string("repo", true);
  if (repo && repo->empty()) {
    r.error(r.markOf("repo"), "repo must be a " + vcs + " URL or a path on the slave, not empty");
    repo.reset();
  }
  if (repo) {
    cfg::checkSecretInterpolation(r, p, r.markOf("repo"), "repo", *repo);
    refuseOptionLike(r, "repo", *repo);
    o.repo = *repo;
  } else {
    ok = false;
  }
  if (auto b = r.string("branch")) {
    cfg::checkInterpolation(r, r.markOf("branch"), "branch", *b);
    refuseOptionLike(r, "branch", *b);
    o.branch = *b;
  }
  if (auto rev = r.string("revision")) {
    cfg::checkInterpolation(r, r.markOf("revision"), "revision", *rev);
    refuseOptionLike(r, "revision", *rev);
    o.revision = *rev;
  }
  if (auto mode = r.choice("mode", {"incremental", "full"})) o.mode = *mode;
  if (auto method = r.choice("method", {"clobber", "fresh", "clean", "copy"})) {
    if (o.mode != "full") {
      r.error(r.markOf("method"), "method '" + *method +
                                      "' applies to mode: full only (mode is incremental)");
      ok = false;
    }
    o.method = *method;
  }
  return ok;
}

Json SourceStep::args(const StepContext& ctx) const {
  const auto& o = cfg_.as<SourceOptions>();
  return Json{{"repo", interpolate(o.repo, ctx.props, ctx.secrets)},
              {"branch", interpolate(o.branch, ctx.props)},
              {"revision", interpolate(o.revision, ctx.props)},
              {"mode", o.mode},
              {"method", o.method},
              {"workdir", workdir(ctx, o)},
              {"timeout", o.timeout}};
}

void SourceStep::onOutcome(StepContext& ctx, const CommandOutcome& o) {
  if (auto it = o.props.find("got_revision"); it != o.props.end() && it->is_string())
    ctx.setProperty("got_revision", *it, propertySource());
}

}  // namespace bb
