// Loading a master config: YAML parsing, the top-level sections, and the
// checks across sections (references, dependent-scheduler cycles).
#include "config/master_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/yaml_util.hpp"

namespace bb {

bool UserEntry::mayDo(const std::string& what) const {
  return std::find(may.begin(), may.end(), what) != may.end();
}

namespace {

template <typename T>
const T* findByName(const std::vector<T>& items, const std::string& name) {
  for (const T& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

}  // namespace

const SlaveEntry* MasterConfig::findSlave(const std::string& name) const {
  return findByName(slaves, name);
}
const UserEntry* MasterConfig::findUser(const std::string& name) const {
  return findByName(users, name);
}
const BuilderEntry* MasterConfig::findBuilder(const std::string& name) const {
  return findByName(builders, name);
}
const SchedulerEntry* MasterConfig::findScheduler(const std::string& name) const {
  return findByName(schedulers, name);
}

namespace cfg {
namespace {

std::string knownNames(const std::map<std::string, YAML::Mark>& names) {
  std::string out;
  std::size_t n = 0;
  for (const auto& [name, mark] : names) {
    if (++n > 10) return out + ", ...";
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

std::string plural(RefKind k) {
  return k == RefKind::ChangeSource ? "change_sources" : std::string(toString(k)) + "s";
}

void checkReferences(MasterParse& p) {
  for (const PendingRef& ref : p.refs) {
    const auto& names = p.defined[ref.kind];
    if (names.count(ref.name) != 0) continue;
    std::string msg = ref.what + ": unknown " + std::string(toString(ref.kind)) + " '" + ref.name + "'; ";
    msg += names.empty() ? "no " + plural(ref.kind) + " are defined"
                         : "defined " + plural(ref.kind) + ": " + knownNames(names);
    p.sink.add(ref.mark, msg);
  }
}

// A cycle of dependent schedulers would never start a build; report it once,
// at the scheduler whose upstream closes the loop.
void checkDependentCycles(MasterParse& p) {
  std::set<std::string> reported;
  for (const auto& [start, first] : p.upstreams) {
    std::vector<std::string> path{start};
    std::string cur = first.first;
    while (p.upstreams.count(cur) != 0 && std::find(path.begin(), path.end(), cur) == path.end()) {
      path.push_back(cur);
      cur = p.upstreams.at(cur).first;
    }
    if (cur != start || reported.count(start) != 0) continue;
    std::string loop;
    for (const auto& s : path) {
      loop += s + " -> ";
      reported.insert(s);
    }
    p.sink.add(first.second, "scheduler '" + start + "': dependent schedulers form a cycle (" +
                                 loop + start + "); none of them would ever run");
  }
}

// name -> type of every scheduler written in the file, read ahead of the
// sections so that a trigger step can check that it names a triggerable
// one (a missing name is left to the reference check).
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

}  // namespace
}  // namespace cfg

ConfigResult<MasterConfig> parseMasterConfig(const std::string& yaml, const std::string& name,
                                             const ConfigKinds& kinds) {
  ConfigResult<MasterConfig> result;
  cfg::ErrorSink sink(name);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    sink.add(e.mark, "YAML syntax error: " + e.msg);
    result.errors = sink.sorted();
    return result;
  }
  if (!root.IsDefined() || root.IsNull()) {
    sink.add(YAML::Mark::null_mark(),
             "the config file is empty; start from config/examples/demo.yaml");
    result.errors = sink.sorted();
    return result;
  }
  MasterConfig config;
  config.path = name;
  config.text = yaml;
  cfg::MasterParse p{sink, config, {}, {}, {}, kinds, {}};
  cfg::MapReader top(root, "top level", sink);
  if (top.isMap()) {
    p.schedulerTypes = cfg::schedulerTypes(top);
    top.allowKeys({"master", "slaves", "users", "locks", "builders", "schedulers", "change_sources",
                  "reporters", "secrets", "secrets_dir", "retention"});
    cfg::parseMasterSection(top, p);
    cfg::parseSlaves(top, p);
    cfg::parseUsers(top, p);
    cfg::parseLocks(top, p);
    cfg::parseChangeSources(top, p);
    cfg::parseBuilders(top, p);
    cfg::parseSchedulers(top, p);
    cfg::parseReporters(top, p);
    cfg::parseSecrets(top, p);
    cfg::parseRetention(top, p);
    cfg::checkReferences(p);
    cfg::checkDependentCycles(p);
  }
  result.errors = sink.sorted();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigResult<MasterConfig> loadMasterConfig(const std::string& path, const ConfigKinds& kinds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    ConfigResult<MasterConfig> result;
    result.errors.push_back(ConfigError{path, 0, 0,
                                        std::string("cannot open the config file: ") +
                                            std::strerror(err)});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    ConfigResult<MasterConfig> result;
    result.errors.push_back(ConfigError{path, 0, 0, "cannot read the config file"});
    return result;
  }
  auto result = parseMasterConfig(text.str(), path, kinds);
  if (result.config) {
    result.errors = resolveSecrets(*result.config,
                                   std::filesystem::path(path).parent_path().string());
    if (!result.errors.empty()) result.config.reset();
  }
  return result;
}

}  // namespace bb
