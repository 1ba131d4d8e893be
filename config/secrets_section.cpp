// The `secrets:` and `secrets_dir:` keys, and reading the secrets they
// name. Parsing records references only; resolveSecrets() reads the values
// when the config is loaded from its file (checkconfig, start, reconfig).
// No message here ever contains a secret's value.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/interpolate.hpp"
#include "config/yaml_util.hpp"

namespace bb {

namespace cfg {

void parseSecrets(const MapReader& top, MasterParse& p) {
  SecretsConfig& out = p.config.secrets;
  if (auto dir = top.string("secrets_dir")) {
    if (dir->empty()) {
      top.error(top.markOf("secrets_dir"), "secrets_dir must be a folder, not empty");
    } else {
      out.dir = *dir;
      const YAML::Mark m = top.markOf("secrets_dir");
      out.dirLine = m.line >= 0 ? m.line + 1 : 0;
      out.dirColumn = m.line >= 0 ? m.column + 1 : 0;
    }
  }
  if (!top.has("secrets")) return;
  MapReader r(top.value("secrets"), "secrets", p.sink, top.markOf("secrets"));
  if (!r.isMap()) return;
  for (const std::string& name : r.keys()) {
    if (auto bad = checkPropertyName(name)) {
      r.error(r.keyMarkOf(name), "secret name '" + name +
                                     "' is not allowed: use one or more letters, digits, '_', '.' "
                                     "or '-' (a name that %(secret:NAME)s can refer to)");
      continue;
    }
    MapReader e(r.value(name), "secret '" + name + "'", p.sink, r.markOf(name));
    if (!e.isMap()) continue;
    e.allowKeys({"file", "env"});
    auto file = e.string("file");
    auto env = e.string("env");
    if (file.has_value() == env.has_value()) {
      if (!e.has("file") && !e.has("env"))
        e.error(e.mark(), e.what() + ": give exactly one of file: PATH or env: VARIABLE");
      else if (file && env)
        e.error(e.mark(), e.what() + ": give either file or env, not both");
      continue;
    }
    const std::string& ref = file ? *file : *env;
    if (ref.empty()) {
      e.error(e.markOf(file ? "file" : "env"), e.what() + ": " + (file ? "file" : "env") +
                                                   " must not be empty");
      continue;
    }
    const YAML::Mark m = e.mark();
    out.refs.push_back(SecretRef{name, file ? "file" : "env", ref, m.line >= 0 ? m.line + 1 : 0,
                                 m.line >= 0 ? m.column + 1 : 0});
  }
}

}  // namespace cfg

namespace {

// Reads a whole file; nullopt and `why` if it cannot.
std::optional<std::string> readFile(const std::filesystem::path& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return std::nullopt;
  }
  std::string v = text.str();
  if (!v.empty() && v.back() == '\n') v.pop_back();
  if (!v.empty() && v.back() == '\r') v.pop_back();
  return v;
}

}  // namespace

std::vector<ConfigError> resolveSecrets(MasterConfig& config, const std::string& baseDir) {
  namespace fs = std::filesystem;
  std::vector<ConfigError> errors;
  SecretsConfig& s = config.secrets;
  s.values.clear();
  std::map<std::string, std::string> from;  // name -> where its value came from
  std::set<std::string> defined;            // every name given, read or not
  auto add = [&](const std::string& name, std::string value, const std::string& where, int line,
                 int column) {
    if (auto [it, fresh] = from.emplace(name, where); !fresh) {
      errors.push_back(ConfigError{config.path, line, column,
                                   "secret '" + name + "' (" + where + ") is also defined by " +
                                       it->second + "; names must be unique"});
      return;
    }
    if (value.size() < kMinSecretBytes) {
      errors.push_back(ConfigError{config.path, line, column,
                                   "secret '" + name + "' (" + where + ") is " +
                                       std::to_string(value.size()) + " byte(s) long; a secret " +
                                       "must have at least " + std::to_string(kMinSecretBytes) +
                                       " bytes so that masking it does not mask ordinary text"});
      return;
    }
    s.values[name] = std::move(value);
  };
  const fs::path base = baseDir.empty() ? fs::path(".") : fs::path(baseDir);
  for (const SecretRef& ref : s.refs) {
    defined.insert(ref.name);
    if (ref.source == "env") {
      const char* v = std::getenv(ref.ref.c_str());
      if (v == nullptr) {
        errors.push_back(ConfigError{config.path, ref.line, ref.column,
                                     "secret '" + ref.name + "': environment variable " + ref.ref +
                                         " is not set (set it in the master's environment)"});
        continue;
      }
      add(ref.name, v, "environment variable " + ref.ref, ref.line, ref.column);
      continue;
    }
    fs::path path = ref.ref;
    if (path.is_relative()) path = base / path;
    std::string why;
    auto v = readFile(path, why);
    if (!v) {
      errors.push_back(ConfigError{config.path, ref.line, ref.column,
                                   "secret '" + ref.name + "': cannot read file " + path.string() +
                                       ": " + why});
      continue;
    }
    add(ref.name, std::move(*v), "file " + path.string(), ref.line, ref.column);
  }
  if (!s.dir.empty()) {
    fs::path dir = s.dir;
    if (dir.is_relative()) dir = base / dir;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      errors.push_back(ConfigError{config.path, s.dirLine, s.dirColumn,
                                   "secrets_dir: cannot read folder " + dir.string() + ": " +
                                       ec.message()});
    }
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const fs::path file = it->path();
      const std::string name = file.filename().string();
      if (name.empty() || name.front() == '.' || !it->is_regular_file(ec)) continue;
      if (checkPropertyName(name)) {
        errors.push_back(ConfigError{config.path, s.dirLine, s.dirColumn,
                                     "secrets_dir: file name '" + name + "' is not a secret name " +
                                         "(letters, digits, '_', '.' or '-'); rename or move it"});
        continue;
      }
      defined.insert(name);
      std::string why;
      auto v = readFile(file, why);
      if (!v) {
        errors.push_back(ConfigError{config.path, s.dirLine, s.dirColumn,
                                     "secret '" + name + "': cannot read file " + file.string() +
                                         ": " + why});
        continue;
      }
      add(name, std::move(*v), "file " + file.string() + " in secrets_dir", s.dirLine,
          s.dirColumn);
    }
  }
  for (const SecretUse& use : s.uses) {
    if (defined.count(use.name) != 0) continue;  // defined (a read error is said above)
    std::string known;
    for (const auto& name : defined) known += (known.empty() ? "" : ", ") + name;
    errors.push_back(ConfigError{config.path, use.line, use.column,
                                 use.what + ": unknown secret '" + use.name + "'; " +
                                     (known.empty() ? "no secrets are defined (secrets: or secrets_dir:)"
                                                    : "defined secrets: " + known)});
  }
  if (!errors.empty()) s.values.clear();
  return errors;
}

}  // namespace bb
