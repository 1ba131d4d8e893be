// The `builders:` section and the steps inside each builder.
#include <map>
#include <set>

#include "config/yaml_util.hpp"

namespace bb::cfg {

namespace {

// Workdirs live under the builder's directory on the slave; an absolute
// path or '..' would let a config write anywhere on the build host.
std::optional<std::string> checkWorkdir(const std::string& dir) {
  if (dir.empty()) return "workdir must not be empty";
  if (dir.front() == '/') return "workdir must be a relative path inside the builder directory, got '" + dir + "'";
  std::size_t start = 0;
  while (start <= dir.size()) {
    std::size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    if (dir.compare(start, end - start, "..") == 0 && end - start == 2) {
      return "workdir must not contain '..', got '" + dir + "'";
    }
    start = end + 1;
  }
  return std::nullopt;
}

void readCommonStepKeys(const MapReader& r, MasterParse& p, StepConfig& s) {
  if (auto w = r.string("workdir")) {
    if (auto bad = checkWorkdir(*w)) {
      r.error(r.markOf("workdir"), *bad);
    } else {
      checkInterpolation(r, r.markOf("workdir"), "workdir", *w);
      s.workdir = *w;
    }
  }
  if (auto t = r.integer("timeout", 0, kNoMax)) s.timeout = static_cast<int>(std::min<std::int64_t>(*t, 1 << 30));
  s.locks = parseLockAccesses(r, p);
}

bool parseShellStep(MapReader& r, MasterParse& p, StepConfig& s) {
  r.allowKeys({"name", "command", "workdir", "env", "timeout", "max_silence", "halt_on_failure",
               "flunk_on_failure", "warn_on_failure", "locks"});
  readCommonStepKeys(r, p, s);
  bool ok = true;
  YAML::Node cmd = r.value("command");
  if (!cmd.IsDefined()) {
    r.missing("command");
    ok = false;
  } else if (cmd.IsSequence()) {
    if (auto argv = r.stringList("command")) {
      YAML::Node list = r.value("command");
      for (std::size_t i = 0; i < argv->size(); ++i) {
        checkInterpolation(r, list[i].Mark(), "command item " + std::to_string(i + 1), (*argv)[i]);
      }
      s.argv = *argv;
    } else {
      ok = false;
    }
  } else if (auto text = r.string("command", true)) {
    s.command = *text;
    checkInterpolation(r, r.markOf("command"), "command", *text);
  } else {
    ok = false;
  }
  if (ok && s.argv.empty() && s.command.find_first_not_of(" \t\n") == std::string::npos) {
    r.error(r.markOf("command"),
            "command is empty; give a shell command string (run by /bin/sh -c) or an argv list");
    ok = false;
  }
  if (auto env = r.stringMap("env")) {
    YAML::Node envNode = r.value("env");
    for (auto it = envNode.begin(); it != envNode.end(); ++it) {
      checkInterpolation(r, it->second.Mark(), "env " + it->first.Scalar(), it->second.Scalar());
    }
    s.env = *env;
  }
  if (auto t = r.integer("max_silence", 0, kNoMax)) s.maxSilence = static_cast<int>(std::min<std::int64_t>(*t, 1 << 30));
  if (auto b = r.boolean("halt_on_failure")) s.haltOnFailure = *b;
  if (auto b = r.boolean("flunk_on_failure")) s.flunkOnFailure = *b;
  if (auto b = r.boolean("warn_on_failure")) s.warnOnFailure = *b;
  return ok;
}

bool parseGitStep(MapReader& r, MasterParse& p, StepConfig& s) {
  r.allowKeys({"name", "repo", "branch", "revision", "mode", "workdir", "timeout", "locks"});
  readCommonStepKeys(r, p, s);
  s.branch = "%(prop:branch)s";
  s.revision = "%(prop:revision)s";
  bool ok = true;
  auto repo = r.string("repo", true);
  if (repo && repo->empty()) {
    r.error(r.markOf("repo"), "repo must be a git URL or a path on the slave, not empty");
    repo.reset();
  }
  if (repo) {
    checkInterpolation(r, r.markOf("repo"), "repo", *repo);
    s.repo = *repo;
  } else {
    ok = false;
  }
  if (auto b = r.string("branch")) {
    checkInterpolation(r, r.markOf("branch"), "branch", *b);
    s.branch = *b;
  }
  if (auto rev = r.string("revision")) {
    checkInterpolation(r, r.markOf("revision"), "revision", *rev);
    s.revision = *rev;
  }
  if (auto mode = r.choice("mode", {"incremental", "full"})) s.mode = *mode;
  return ok;
}

// name -> type of every scheduler written in the file, read ahead of
// parseSchedulers() so that a trigger step can check that it names a
// triggerable one (a missing name is left to the reference check).
std::map<std::string, std::string> schedulerTypes(const MapReader& top) {
  std::map<std::string, std::string> out;
  YAML::Node list = top.value("schedulers");
  if (!list.IsSequence()) return out;
  for (const auto& item : list) {
    if (!item.IsMap()) continue;
    // A missing key gives an invalid node whose IsScalar() throws: ask
    // IsDefined() first (the scheduler parser reports the missing key).
    YAML::Node name = item["name"], type = item["type"];
    if (name.IsDefined() && type.IsDefined() && name.IsScalar() && type.IsScalar())
      out.emplace(name.Scalar(), type.Scalar());
  }
  return out;
}

bool parseTriggerStep(MapReader& r, MasterParse& p, StepConfig& s,
                      const std::map<std::string, std::string>& types) {
  r.allowKeys({"name", "schedulers", "wait_for_finish", "set_properties", "copy_properties",
               "update_source_stamp", "halt_on_failure", "flunk_on_failure", "warn_on_failure",
               "locks"});
  s.locks = parseLockAccesses(r, p);
  bool ok = true;
  if (auto list = r.stringList("schedulers", true)) {
    YAML::Node node = r.value("schedulers");
    if (list->empty()) {
      r.error(r.markOf("schedulers"),
              "schedulers is empty; list the triggerable schedulers this step starts");
      ok = false;
    }
    std::set<std::string> seen;
    for (std::size_t j = 0; j < list->size(); ++j) {
      const std::string& name = (*list)[j];
      if (!seen.insert(name).second) {
        r.error(node[j].Mark(), "scheduler '" + name + "' is listed twice; list each once");
        ok = false;
        continue;
      }
      p.refer(RefKind::Scheduler, name, node[j].Mark(), r.what());
      auto t = types.find(name);
      if (t != types.end() && t->second != "triggerable") {
        r.error(node[j].Mark(), "scheduler '" + name + "' has type " + t->second +
                                    "; a trigger step can only start schedulers of type triggerable");
        ok = false;
      }
    }
    s.schedulers = *list;
  } else {
    ok = false;
  }
  if (auto b = r.boolean("wait_for_finish")) s.waitForFinish = *b;
  if (auto props = r.properties("set_properties")) {
    YAML::Node node = r.value("set_properties");
    for (auto it = node.begin(); it != node.end(); ++it)
      if (it->second.IsScalar())
        checkInterpolation(r, it->second.Mark(), "set_properties " + it->first.Scalar(),
                           it->second.Scalar());
    s.setProperties = *props;
  } else if (r.has("set_properties")) {
    ok = false;
  }
  if (auto copy = r.stringList("copy_properties")) s.copyProperties = *copy;
  if (auto b = r.boolean("update_source_stamp")) s.updateSourceStamp = *b;
  if (auto b = r.boolean("halt_on_failure")) s.haltOnFailure = *b;
  if (auto b = r.boolean("flunk_on_failure")) s.flunkOnFailure = *b;
  if (auto b = r.boolean("warn_on_failure")) s.warnOnFailure = *b;
  return ok;
}

// Parses one `{shell: {...}}` / `{git: {...}}` / `{trigger: {...}}` item;
// nullopt on error.
std::optional<StepConfig> parseStep(const YAML::Node& item, std::size_t i, const MapReader& builder,
                                    MasterParse& p, std::set<std::string>& names,
                                    const std::map<std::string, std::string>& schedulerTypes) {
  const std::string where = builder.what() + ", step " + std::to_string(i + 1);
  if (!item.IsMap() || item.size() != 1 || !item.begin()->first.IsScalar()) {
    p.sink.add(item.IsNull() ? builder.markOf("steps") : item.Mark(),
               where + " must be a one-key map: {shell: {...}}, {git: {...}} or {trigger: {...}}, got " +
                   describe(item));
    return std::nullopt;
  }
  const std::string type = item.begin()->first.Scalar();
  if (type != "shell" && type != "git" && type != "trigger") {
    p.sink.add(item.begin()->first.Mark(),
               where + ": unknown step type '" + type + "'; allowed: shell, git, trigger");
    return std::nullopt;
  }
  MapReader r(item.begin()->second, where + " (" + type + ")", p.sink, item.begin()->first.Mark());
  if (!r.isMap()) return std::nullopt;
  StepConfig s;
  s.type = type;
  bool explicitName = r.has("name");
  bool ok = true;
  if (auto name = r.string("name")) {
    if (auto bad = checkName(*name, " ")) {
      r.error(r.markOf("name"), "step " + *bad);
      ok = false;
    } else {
      s.name = *name;
      r.setWhat(builder.what() + ", step '" + s.name + "'");
    }
  } else if (explicitName) {
    ok = false;
  }
  if (type == "shell") ok = parseShellStep(r, p, s) && ok;
  else if (type == "git") ok = parseGitStep(r, p, s) && ok;
  else ok = parseTriggerStep(r, p, s, schedulerTypes) && ok;
  if (!ok) return std::nullopt;
  if (!explicitName) {
    // Unnamed steps are named after their type, numbered from the second on
    // ("shell", "shell_2", ...), so step names stay unique in a build.
    s.name = type;
    for (int n = 2; names.count(s.name) != 0; ++n) s.name = type + "_" + std::to_string(n);
  } else if (names.count(s.name) != 0) {
    r.error(r.markOf("name"), "duplicate step name '" + s.name +
                                  "' in this builder; give each step a distinct name");
    return std::nullopt;
  }
  names.insert(s.name);
  return s;
}

}  // namespace

void parseBuilders(const MapReader& top, MasterParse& p) {
  const auto types = schedulerTypes(top);
  forEachItem(top, "builders", [&](const YAML::Node& item, std::size_t i) {
    MapReader r(item, "builders item " + std::to_string(i + 1), p.sink, top.markOf("builders"));
    if (!r.isMap()) return;
    r.allowKeys({"name", "slaves", "properties", "locks", "collapse_requests", "steps"});
    BuilderEntry b;
    auto name = readName(r, p, RefKind::Builder, "builder");
    bool ok = name.has_value();
    if (auto slaves = r.stringList("slaves", true)) {
      if (slaves->empty()) {
        r.error(r.markOf("slaves"), "slaves is empty; list at least one slave that can run this builder");
        ok = false;
      }
      YAML::Node list = r.value("slaves");
      for (std::size_t j = 0; j < slaves->size(); ++j) {
        p.refer(RefKind::Slave, (*slaves)[j], list[j].Mark(), r.what());
      }
      b.slaves = *slaves;
    } else {
      ok = false;
    }
    if (auto props = r.properties("properties")) b.properties = *props;
    b.locks = parseLockAccesses(r, p);
    if (auto c = r.boolean("collapse_requests")) b.collapseRequests = *c;
    YAML::Node steps = r.value("steps");
    if (!steps.IsDefined()) {
      r.missing("steps");
      ok = false;
    } else if (!steps.IsSequence() || steps.size() == 0) {
      r.error(r.markOf("steps"), "steps must be a non-empty list of {shell: {...}}, {git: {...}} or {trigger: {...}}, got " +
                                     (steps.IsSequence() ? std::string("an empty list") : describe(steps)));
      ok = false;
    } else {
      std::set<std::string> names;
      for (std::size_t j = 0; j < steps.size(); ++j) {
        if (auto s = parseStep(steps[j], j, r, p, names, types)) {
          b.steps.push_back(std::move(*s));
        } else {
          ok = false;
        }
      }
    }
    if (!ok) return;
    b.name = *name;
    p.config.builders.push_back(std::move(b));
  });
}

}  // namespace bb::cfg
