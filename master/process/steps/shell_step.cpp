#include "master/process/steps/shell_step.hpp"

#include <algorithm>
#include <memory>

#include "config/yaml_util.hpp"

namespace bb {

namespace {

bool parseShellStep(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
  r.allowKeys({"name", "command", "workdir", "env", "timeout", "max_silence", "halt_on_failure",
               "flunk_on_failure", "warn_on_failure", "locks", "urls"});
  auto o = std::make_shared<ShellOptions>();
  readRemoteStepKeys(r, p, s, *o);
  bool ok = true;
  YAML::Node cmd = r.value("command");
  if (!cmd.IsDefined()) {
    r.missing("command");
    ok = false;
  } else if (cmd.IsSequence()) {
    if (auto argv = r.stringList("command")) {
      YAML::Node list = r.value("command");
      for (std::size_t i = 0; i < argv->size(); ++i) {
        cfg::checkSecretInterpolation(r, p, list[i].Mark(), "command item " + std::to_string(i + 1),
                                (*argv)[i]);
      }
      o->argv = *argv;
    } else {
      ok = false;
    }
  } else if (auto text = r.string("command", true)) {
    o->command = *text;
    cfg::checkSecretInterpolation(r, p, r.markOf("command"), "command", *text);
  } else {
    ok = false;
  }
  if (ok && o->argv.empty() && o->command.find_first_not_of(" \t\n") == std::string::npos) {
    r.error(r.markOf("command"),
            "command is empty; give a shell command string (run by /bin/sh -c) or an argv list");
    ok = false;
  }
  if (auto env = r.stringMap("env")) {
    YAML::Node envNode = r.value("env");
    for (auto it = envNode.begin(); it != envNode.end(); ++it) {
      cfg::checkSecretInterpolation(r, p, it->second.Mark(), "env " + it->first.Scalar(),
                              it->second.Scalar());
    }
    o->env = *env;
  }
  if (auto t = r.integer("max_silence", 0, cfg::kNoMax))
    o->maxSilence = static_cast<int>(std::min<std::int64_t>(*t, 1 << 30));
  if (auto b = r.boolean("halt_on_failure")) s.haltOnFailure = *b;
  if (auto b = r.boolean("flunk_on_failure")) s.flunkOnFailure = *b;
  if (auto b = r.boolean("warn_on_failure")) s.warnOnFailure = *b;
  s.options = std::move(o);
  return ok;
}

}  // namespace

void ShellStep::declareType(StepType& t) { t.config.parse = parseShellStep; }

Json ShellStep::args(const StepContext& ctx) const {
  const auto& o = cfg_.as<ShellOptions>();
  Json args{{"workdir", workdir(ctx, o)}, {"timeout", o.timeout}, {"max_silence", o.maxSilence}};
  if (!o.argv.empty()) {
    Json argv = Json::array();
    for (const auto& a : o.argv) argv.push_back(interpolate(a, ctx.props, ctx.secrets));
    args["argv"] = std::move(argv);
  } else {
    args["command"] = interpolate(o.command, ctx.props, ctx.secrets);
  }
  Json env = Json::object();
  for (const auto& [k, v] : o.env) env[k] = interpolate(v, ctx.props, ctx.secrets);
  args["env"] = std::move(env);
  return args;
}

}  // namespace bb
