#include "master/admin/admin.hpp"

#include <filesystem>
#include <iostream>

#include "master/config_kinds.hpp"
#include "master/schedulers/scheduler_set.hpp"

namespace bb::admin {

namespace fs = std::filesystem;

std::string configPathFor(const std::string& target) {
  return fs::is_directory(target) ? (fs::path(target) / kConfigName).string() : target;
}

std::string pidPathFor(const std::string& dir) { return (fs::path(dir) / kPidName).string(); }

std::string logPathFor(const std::string& dir) { return (fs::path(dir) / kLogName).string(); }

std::string missingConfigAdvice(const std::string& target) {
  // "x.yaml" names a config file; anything else is taken as a master
  // directory that should hold master.yaml.
  fs::path given(target);
  const auto ext = given.extension().string();
  const bool isFile = ext == ".yaml" || ext == ".yml";
  const fs::path dir = isFile ? (given.has_parent_path() ? given.parent_path() : fs::path("."))
                              : given;
  const fs::path cfg = isFile ? given : dir / kConfigName;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return cfg.string() + ": no such file, and " + dir.string() +
           " is not a directory; `buildmaster create-master " + dir.string() +
           "` makes a master directory with a sample config to start from";
  const fs::path sample = dir / (std::string(kConfigName) + ".sample");
  if (fs::exists(sample, ec))
    return cfg.string() + ": no such file; copy " + sample.string() + " to " +
           (dir / kConfigName).string() + " and edit it (every key: docs/configuration.md)";
  return cfg.string() + ": no such file; `buildmaster create-master " + dir.string() +
         "` writes " + sample.string() + " to start from (copy it to " +
         (dir / kConfigName).string() + " and edit it)";
}

std::optional<MasterConfig> loadChecked(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    std::cerr << missingConfigAdvice(path) << "\n";
    return std::nullopt;
  }
  auto r = loadMasterConfig(path, masterConfigKinds());
  std::vector<std::string> errors;
  for (const auto& e : r.errors) errors.push_back(e.toString());
  if (r.config)
    for (const auto& s : r.config->schedulers)
      if (auto problem = SchedulerSet::check(s); !problem.empty()) errors.push_back(path + ": " + problem);
  if (!errors.empty() || !r.config) {
    for (const auto& e : errors) std::cerr << e << "\n";
    std::cerr << path << ": " << errors.size() << " error(s); the config was not accepted\n";
    return std::nullopt;
  }
  return r.config;
}

std::optional<ParsedVerb> parseMasterVerb(const std::string& verb, const std::string& synopsis,
                                          const boost::program_options::options_description& opts,
                                          const std::vector<std::string>& args,
                                          std::vector<VerbPositional> positionals) {
  return parseVerb(VerbSpec{"buildmaster", verb, synopsis, std::move(positionals)}, opts, args,
                   std::cout, std::cerr);
}

VerbPositional dirArg() { return {"dir", "DIR", "the master directory", true}; }

}  // namespace bb::admin
