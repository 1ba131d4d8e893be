#include "master/process/steps/source_step.hpp"

#include "common/base64.hpp"
#include "config/yaml_util.hpp"
#include "master/db/database.hpp"
#include "master/process/log_writer.hpp"
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
                                "method", "workdir", "timeout", "locks", "urls"};
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

bool readExtraSourceKey(cfg::MapReader& r, SourceOptions& o, const std::string& key, bool required,
                        const std::string& def) {
  auto v = r.string(key, required);
  if (!v) {
    if (required) return false;
    o.extra[key] = def;
    return true;
  }
  if (!v->empty() && (*v)[0] == '-') {
    r.error(r.markOf(key), key + " '" + *v + "' starts with '-' and would be read as an option");
    return false;
  }
  o.extra[key] = *v;
  return true;
}

void addTryPatch(const StepContext& ctx, Json& args) {
  if (ctx.buildsetId == 0) return;
  auto patch = ctx.db.getBuildsetPatch(ctx.buildsetId);
  if (!patch || patch->body.empty()) return;  // a try job without changes: the base revision
  // A try build: the slave applies the patch after the checkout, and the
  // step shows it as its `patch` log.
  args["patch"] = Json{{"level", patch->level}, {"body_base64", base64Encode(patch->body)}};
  if (ctx.stepId != 0) {
    ctx.db.transaction([&] {
      const std::int64_t logId = ctx.db.addLog(ctx.stepId, "patch");
      for (std::size_t at = 0; at < patch->body.size(); at += 64 * 1024)
        ctx.db.appendLog(logId, 0, std::string_view(patch->body).substr(at, 64 * 1024));
      ctx.db.finishLog(logId);
    });
  }
  ctx.log.append(2, "try patch: " + std::to_string(patch->body.size()) + " bytes, -p" +
                        std::to_string(patch->level) + (patch->who.empty() ? "" : ", from " + patch->who) +
                        (patch->jobId.empty() ? "" : ", job " + patch->jobId) + "\n");
}

Json SourceStep::args(const StepContext& ctx) const {
  const auto& o = cfg_.as<SourceOptions>();
  Json a{{"repo", interpolate(o.repo, ctx.props, ctx.secrets)},
         {"branch", interpolate(o.branch, ctx.props)},
         {"revision", interpolate(o.revision, ctx.props)},
         {"mode", o.mode},
         {"method", o.method},
         {"workdir", workdir(ctx, o)},
         {"timeout", o.timeout}};
  for (const auto& [k, v] : o.extra.items()) a[k] = v;
  addTryPatch(ctx, a);
  return a;
}

void SourceStep::onOutcome(StepContext& ctx, const CommandOutcome& o) {
  if (auto it = o.props.find("got_revision"); it != o.props.end() && it->is_string())
    ctx.setProperty("got_revision", *it, propertySource());
}

}  // namespace bb
