#pragma once
// Typed master configuration, loaded from YAML by loadMasterConfig().
// Every key is documented in docs/configuration.md.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/message.hpp"  // Json
#include "config/config_error.hpp"
#include "config/log_rotation.hpp"

namespace bb {

struct MasterSection {
  std::string name = "buildmaster";
  std::string url = "http://localhost:8010/";  // base URL used in every link
  std::string host = "127.0.0.1";              // address the ports bind to
  std::uint16_t slavePort = 9989;              // slaves and buildbot clients
  std::uint16_t webPort = 0;                   // 0: no web server
  std::string webHost;                         // address the web server binds to ("": `host`)
  bool webReadLogin = false;                   // reading the web API needs a login (`status`)
  std::size_t webMaxBody = 1024 * 1024;        // larger request bodies get 413
  std::size_t webMaxConnections = 512;         // more at once get 503 (event streams count)
  std::string database = "sqlite:state.sqlite";  // relative to the master dir
  // A file holding the PostgreSQL password (relative to the master dir;
  // "": libpq's own ways, ~/.pgpass or PGPASSWORD).
  std::string databasePasswordFile;
  std::uint32_t maxFrame = 1u << 20;
  std::chrono::seconds heartbeatInterval{10};
  std::chrono::seconds heartbeatTimeout{30};
  std::chrono::seconds pingTimeout{10};
  // Several masters on one database: a master whose heartbeat is older
  // than this is declared dead by another, which takes over its work.
  std::chrono::seconds deadAfter{60};
  // TLS on slave_port (docs/configuration.md): on unless `tls: false`;
  // the files are relative to the master directory.
  bool tls = true;
  std::string tlsCert = "master.crt";
  std::string tlsKey = "master.key";
  // Times a request is put back after its slave was lost before it fails
  // with EXCEPTION.
  int maxRetries = 3;
  // What one build's upload steps may store in total, in bytes.
  std::int64_t artifactsMaxBuildSize = std::int64_t{10} << 30;
  LogRotationConfig log;  // buildmaster.log
};

// One half of `retention:` (docs/configuration.md): what the master's
// retention janitor deletes. 0 means no limit of that kind.
struct RetentionRules {
  double maxAgeDays = 0;          // finished (artifacts: stored) longer ago than this
  int keepBuildsPerBuilder = 0;   // only each builder's newest N builds keep theirs
  std::int64_t maxTotalBytes = 0;  // artifacts only: all artifacts' bytes, oldest go first
  bool any() const { return maxAgeDays > 0 || keepBuildsPerBuilder > 0 || maxTotalBytes > 0; }
};

struct RetentionConfig {
  RetentionRules artifacts;
  RetentionRules logs;  // maxTotalBytes unused
  std::chrono::minutes interval{60};  // between rounds (one also runs at start)
  bool any() const { return artifacts.any() || logs.any(); }
};

struct SlaveEntry {
  std::string name;
  std::string passwordVerifier;  // "scram-sha-256$iter:salt$stored:server"
  int maxBuilds = 1;
  Json properties = Json::object();
};

struct UserEntry {
  std::string name;
  std::string passwordVerifier;
  std::vector<std::string> may;  // sendchange, force, try, status
  bool mayDo(const std::string& what) const;
};

struct LockEntry {
  std::string name;
  std::string scope = "master";  // master | slave
  int maxCount = 1;
  std::map<std::string, int> maxCountForSlave;
};

struct LockAccess {
  std::string lock;
  // One of the registered access modes (master/locks/lock.cpp); the
  // loader writes the default when the config leaves it out.
  std::string access;
};

// A step type's own settings: each step type defines its options in its
// own file (master/process/steps/) and its config check fills them.
struct StepOptions {
  virtual ~StepOptions() = default;
};

struct StepConfig {
  std::string type;  // a registered step type (master/process/steps/step_types.cpp)
  std::string name;
  std::vector<LockAccess> locks;
  // What a failure of this step does to the build.
  bool haltOnFailure = true;
  bool flunkOnFailure = true;
  bool warnOnFailure = false;
  // Named URLs (`urls:`), name -> template with %(prop:...)s, in config
  // order; rendered with the build's properties when the step starts.
  std::vector<std::pair<std::string, std::string>> urls;
  std::shared_ptr<const StepOptions> options;  // the type's own, never null once loaded

  // The options as the type's own struct; T must be the type's options.
  template <typename T>
  const T& as() const {
    return static_cast<const T&>(*options);
  }
};

struct BuilderEntry {
  std::string name;
  std::vector<std::string> slaves;
  std::vector<StepConfig> steps;
  Json properties = Json::object();
  std::vector<LockAccess> locks;
  bool collapseRequests = false;
};

struct FileFilter {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
};

// Which changes a change-listening scheduler looks at. Every pattern is a glob (see
// globMatch in master/schedulers/change_filter.hpp), exact when it has no
// wildcard; an empty list accepts every value. A change must pass all of
// them; matches() there applies it.
struct ChangeFilter {
  std::optional<std::string> branch;        // exact branch (the `branch` key)
  std::vector<std::string> branchPatterns;  // branch_pattern (a type may add its own spelling)
  std::vector<std::string> repositories;
  std::vector<std::string> projects;
  std::vector<std::string> categories;
};

struct SchedulerEntry {
  std::string name;
  std::string type;  // a registered scheduler type (master/schedulers/scheduler_types.cpp)
  std::vector<std::string> builders;
  std::optional<std::string> branch;  // single_branch: exact branch
  int treeStableTimer = 0;            // seconds; 0 = none
  FileFilter files;
  bool onlyImportant = false;
  // branch, branch_pattern, repository, project, category; the last four are
  // also kept verbatim in `extra` (so a reconfig that changes them is seen).
  ChangeFilter changeFilter;
  std::vector<std::string> changeSources;  // empty = all
  int priority = 0;
  Json properties = Json::object();
  // type-specific keys kept verbatim for later scheduler types
  Json extra = Json::object();
};

struct ChangeSourceEntry {
  std::string name;
  std::string type;  // a registered change source type (master/changes/change_source_types.cpp)
  // The keys of the one type there is (filled by its kind's check). A
  // second type with other keys would move them into per-type options,
  // as StepConfig::options does for steps.
  std::string repo;
  std::vector<std::string> branches;
  int interval = 60;
  std::string project;
  std::string category;
  // svn_poller: the patterns that split a changed path into branch and
  // file (master/changes/svn_split.hpp); empty = the standard layout.
  std::vector<std::string> split;
  // The forge webhooks (master/changes/webhook_source.hpp): the shared
  // secret or token (may be %(secret:NAME)s; "" = requests are not
  // checked) and the largest body accepted, in bytes. `branches` there are
  // optional glob patterns of the branches whose changes are kept.
  std::string secret;
  std::size_t maxBody = 1024 * 1024;
};

// A reporter type's own settings (master/reporters/: mail, ...): each
// type defines its options in its own file and its config check fills them.
struct ReporterOptions {
  virtual ~ReporterOptions() = default;
};

// One item of `reporters:`: something that tells people about builds.
struct ReporterEntry {
  std::string name;
  std::string type;  // a registered reporter type (master/reporters/reporter_types.cpp)
  std::shared_ptr<const ReporterOptions> options;  // the type's own, never null once loaded

  template <typename T>
  const T& as() const {
    return static_cast<const T&>(*options);
  }
};

// A secret named by reference (`secrets:` in the config): its value is
// read from a file or an environment variable when the config is loaded
// from its file, never written in the config itself.
struct SecretRef {
  std::string name;
  std::string source;  // "file" or "env"
  std::string ref;     // the path (relative: to the config file's folder) or the variable
  int line = 0, column = 0;  // where the entry is written (1-based)
};

// A `%(secret:NAME)s` in a step field, checked against the secrets once
// they are read.
struct SecretUse {
  std::string name;
  std::string what;  // "builder 'b', step 2 (shell): command"
  int line = 0, column = 0;
};

// Secrets shorter than this cannot be masked without masking ordinary
// text; the loader refuses them.
inline constexpr std::size_t kMinSecretBytes = 4;

struct SecretsConfig {
  std::vector<SecretRef> refs;
  std::string dir;  // secrets_dir: every regular file is a secret named by its file name
  int dirLine = 0, dirColumn = 0;
  std::vector<SecretUse> uses;
  // name -> value; filled by loadMasterConfig (resolveSecrets), empty
  // after parseMasterConfig alone.
  std::map<std::string, std::string> values;
};

struct MasterConfig {
  std::string path;  // file it was loaded from
  std::string text;  // the YAML it was parsed from (reconfig compares two)
  MasterSection master;
  std::vector<SlaveEntry> slaves;
  std::vector<UserEntry> users;
  std::vector<LockEntry> locks;
  std::vector<BuilderEntry> builders;
  std::vector<SchedulerEntry> schedulers;
  std::vector<ChangeSourceEntry> changeSources;
  std::vector<ReporterEntry> reporters;
  SecretsConfig secrets;
  RetentionConfig retention;

  const SlaveEntry* findSlave(const std::string& name) const;
  const UserEntry* findUser(const std::string& name) const;
  const BuilderEntry* findBuilder(const std::string& name) const;
  const SchedulerEntry* findScheduler(const std::string& name) const;
};

struct ConfigKinds;  // config/config_kinds.hpp

// Loads and validates a master config file. All errors are collected (not
// just the first) with file:line:column; `config` is set only when there are
// none. Relative paths stay as written; the caller resolves them, except
// the secrets', which are read (resolveSecrets) relative to the file's
// folder. `kinds`
// are the scheduler, step and change source types and lock access modes
// the config may use, with their checks (the master's: masterConfigKinds()).
ConfigResult<MasterConfig> loadMasterConfig(const std::string& path, const ConfigKinds& kinds);
// The same from YAML text; `name` is used as the file name in errors. It
// reads no secret: config.secrets.values stays empty.
ConfigResult<MasterConfig> parseMasterConfig(const std::string& yaml, const std::string& name,
                                             const ConfigKinds& kinds);

// Reads the value of every secret of `config` (files relative to
// `baseDir`, environment variables, the files of secrets_dir) into
// config.secrets.values, strips one trailing newline ("\n" or "\r\n")
// of a file's value, and checks every %(secret:NAME)s use. Returns the
// problems, positioned in config.path; a message names the secret and its
// reference, never a value.
std::vector<ConfigError> resolveSecrets(MasterConfig& config, const std::string& baseDir);

}  // namespace bb
