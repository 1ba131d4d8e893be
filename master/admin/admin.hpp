#pragma once
// What the `buildmaster` verbs share: the files of a master directory,
// config loading with every error printed, and the verb parser set up for
// "buildmaster". Each verb returns the exit code: 0 ok, 1 the operation
// failed (with one line saying what to fix), 2 usage error.
#include <optional>
#include <string>
#include <vector>

#include "common/verb_args.hpp"
#include "config/master_config.hpp"

namespace bb::admin {

inline constexpr const char* kConfigName = "master.yaml";
inline constexpr const char* kPidName = "buildmaster.pid";
inline constexpr const char* kLogName = "buildmaster.log";

// DIR/master.yaml for a directory, the path itself otherwise.
std::string configPathFor(const std::string& target);
std::string pidPathFor(const std::string& dir);
std::string logPathFor(const std::string& dir);

// What to do about a config that does not exist (`target` is a config
// file "*.yaml" or a master directory), naming paths that do exist (the
// directory, its master.yaml.sample) or the command that makes them.
std::string missingConfigAdvice(const std::string& target);

// Loads and fully validates the config, including what only the master
// knows (scheduler types it implements). Prints every error to stderr.
std::optional<MasterConfig> loadChecked(const std::string& path);

// parseVerb() for "buildmaster VERB" with the positional DIR (or
// DIR|FILE when `dirOrFile`), on std::cout / std::cerr.
std::optional<ParsedVerb> parseMasterVerb(const std::string& verb, const std::string& synopsis,
                                          const boost::program_options::options_description& opts,
                                          const std::vector<std::string>& args,
                                          std::vector<VerbPositional> positionals);

// A positional DIR (the master directory).
VerbPositional dirArg();

// The verbs that live in this folder.
int startVerb(const std::vector<std::string>& args);
int stopVerb(const std::vector<std::string>& args);
int restartVerb(const std::vector<std::string>& args);
int reconfigVerb(const std::vector<std::string>& args);
int cleanupdbVerb(const std::vector<std::string>& args);
int fingerprintVerb(const std::vector<std::string>& args);

// Makes the self-signed certificate and key `m` names in `dir` unless both
// exist, and prints the fingerprint. Returns the exit code.
int createMasterCertificate(const std::string& dir, const MasterSection& m);

}  // namespace bb::admin
