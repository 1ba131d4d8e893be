#include "master/process/steps/git_step.hpp"
#include "master/process/steps/source_step.hpp"

#include <memory>

#include "common/base64.hpp"
#include "config/yaml_util.hpp"
#include "master/db/database.hpp"
#include "master/process/log_writer.hpp"
#include "master/slaves/remote_slave.hpp"

namespace bb {

namespace {

bool parseGitStep(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
  r.allowKeys({"name", "repo", "branch", "revision", "mode", "workdir", "timeout", "locks", "urls"});
  auto o = std::make_shared<GitOptions>();
  readRemoteStepKeys(r, p, s, *o);
  bool ok = true;
  auto repo = r.string("repo", true);
  if (repo && repo->empty()) {
    r.error(r.markOf("repo"), "repo must be a git URL or a path on the slave, not empty");
    repo.reset();
  }
  if (repo) {
    cfg::checkSecretInterpolation(r, p, r.markOf("repo"), "repo", *repo);
    o->repo = *repo;
  } else {
    ok = false;
  }
  if (auto b = r.string("branch")) {
    cfg::checkInterpolation(r, r.markOf("branch"), "branch", *b);
    o->branch = *b;
  }
  if (auto rev = r.string("revision")) {
    cfg::checkInterpolation(r, r.markOf("revision"), "revision", *rev);
    o->revision = *rev;
  }
  if (auto mode = r.choice("mode", {"incremental", "full"})) o->mode = *mode;
  s.options = std::move(o);
  return ok;
}

}  // namespace

void GitStep::declareType(StepType& t) { t.config.parse = parseGitStep; }

Json GitStep::args(const StepContext& ctx) const {
  const auto& o = cfg_.as<GitOptions>();
  Json a{{"repo", interpolate(o.repo, ctx.props, ctx.secrets)},
         {"branch", interpolate(o.branch, ctx.props)},
         {"revision", interpolate(o.revision, ctx.props)},
         {"mode", o.mode},
         {"workdir", workdir(ctx, o)},
         {"timeout", o.timeout}};
  addTryPatch(ctx, a);
  return a;
}

void GitStep::onOutcome(StepContext& ctx, const CommandOutcome& o) {
  if (auto it = o.props.find("got_revision"); it != o.props.end() && it->is_string())
    ctx.setProperty("got_revision", *it, "Git");
}

}  // namespace bb
