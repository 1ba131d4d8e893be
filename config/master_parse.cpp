// Shared pieces of the master config parser: name definitions, references,
// lock access lists and interpolation checks.
#include "common/interpolate.hpp"
#include "config/yaml_util.hpp"

namespace bb::cfg {

std::string_view toString(RefKind k) {
  switch (k) {
    case RefKind::Slave: return "slave";
    case RefKind::Builder: return "builder";
    case RefKind::Lock: return "lock";
    case RefKind::ChangeSource: return "change source";
    case RefKind::Scheduler: return "scheduler";
    case RefKind::Reporter: return "reporter";
  }
  return "?";
}

bool MasterParse::define(RefKind kind, const std::string& name, const YAML::Mark& mark,
                         const std::string& what) {
  auto [it, fresh] = defined[kind].emplace(name, mark);
  if (!fresh) {
    sink.add(mark, what + ": duplicate " + std::string(toString(kind)) + " name '" + name +
                       "' (first defined at line " + std::to_string(it->second.line + 1) +
                       "); names must be unique");
  }
  return fresh;
}

void MasterParse::refer(RefKind kind, const std::string& name, const YAML::Mark& mark,
                        std::string what) {
  refs.push_back(PendingRef{kind, name, mark, std::move(what)});
}

std::optional<std::string> readName(MapReader& r, MasterParse& p, RefKind kind,
                                    std::string_view kindText, std::string_view extra) {
  std::optional<std::string> name = r.string("name", true);
  if (!name) return std::nullopt;
  if (auto bad = checkName(*name, extra)) {
    r.error(r.markOf("name"), *bad);
    return std::nullopt;
  }
  r.setWhat(std::string(kindText) + " '" + *name + "'");
  if (!p.define(kind, *name, r.markOf("name"), r.what())) return std::nullopt;
  return name;
}

std::string joinNames(const std::vector<std::string>& names, std::string_view sep,
                      std::string_view last) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? last : sep;
    out += names[i];
  }
  return out;
}

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

std::vector<LockAccess> parseLockAccesses(const MapReader& r, MasterParse& p) {
  std::vector<LockAccess> out;
  YAML::Node list = r.value("locks");
  if (!list.IsDefined()) return out;
  if (!list.IsSequence()) {
    r.error(r.markOf("locks"), "locks must be a list of {lock: NAME, access: " +
                                   joinNames(p.kinds.lockAccess, "|", "|") + "}, got " +
                                   describe(list));
    return out;
  }
  std::map<std::string, bool> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    MapReader item(list[i], r.what() + ", locks item " + std::to_string(i + 1), p.sink,
                   r.markOf("locks"));
    if (!item.isMap()) continue;
    item.allowKeys({"lock", "access"});
    LockAccess a;
    auto lock = item.string("lock", true);
    if (!p.kinds.lockAccess.empty()) a.access = p.kinds.lockAccess.front();
    auto access = item.choice("access", p.kinds.lockAccess);
    if (access) a.access = *access;
    if (!lock) continue;
    a.lock = *lock;
    if (!seen.emplace(a.lock, true).second) {
      item.error(item.markOf("lock"), "lock '" + a.lock + "' is listed twice; list each lock once");
      continue;
    }
    p.refer(RefKind::Lock, a.lock, item.markOf("lock"), item.what());
    out.push_back(a);
  }
  return out;
}

void checkInterpolation(const MapReader& r, const YAML::Mark& mark, std::string_view field,
                        const std::string& text) {
  if (auto bad = validateInterpolation(text)) {
    r.error(mark, std::string(field) + ": " + *bad + " (write %% for a literal '%' before '(')");
  } else if (auto names = secretNames(text); !names.empty()) {
    r.error(mark, std::string(field) + ": secret '" + names.front() +
                      "' cannot be used here; secrets may be used only in a shell step's command "
                      "and env, a git step's repo, a mail reporter's login password and a webhook's secret");
  }
}

void checkSecretInterpolation(const MapReader& r, MasterParse& p, const YAML::Mark& mark,
                              std::string_view field, const std::string& text) {
  if (auto bad = validateInterpolation(text)) {
    r.error(mark, std::string(field) + ": " + *bad + " (write %% for a literal '%' before '(')");
    return;
  }
  for (auto& name : secretNames(text))
    p.config.secrets.uses.push_back(SecretUse{std::move(name), r.what() + ": " + std::string(field),
                                              mark.line >= 0 ? mark.line + 1 : 0,
                                              mark.line >= 0 ? mark.column + 1 : 0});
}

}  // namespace bb::cfg

namespace bb {

namespace {
template <typename T>
const T* findKind(const std::vector<T>& kinds, const std::string& name) {
  for (const T& k : kinds)
    if (k.name == name) return &k;
  return nullptr;
}
}  // namespace

const SchedulerKind* ConfigKinds::scheduler(const std::string& name) const {
  return findKind(schedulers, name);
}
const StepKind* ConfigKinds::step(const std::string& name) const { return findKind(steps, name); }
const ChangeSourceKind* ConfigKinds::changeSource(const std::string& name) const {
  return findKind(changeSources, name);
}
const ReporterKind* ConfigKinds::reporter(const std::string& name) const {
  return findKind(reporters, name);
}

}  // namespace bb
