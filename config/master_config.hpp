#pragma once
// Typed master configuration, loaded from YAML by loadMasterConfig().
// Every key is documented in docs/configuration.md.
#include <chrono>
#include <cstdint>
#include <map>
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
  std::string database = "sqlite:state.sqlite";  // relative to the master dir
  std::uint32_t maxFrame = 1u << 20;
  std::chrono::seconds heartbeatInterval{10};
  std::chrono::seconds heartbeatTimeout{30};
  std::chrono::seconds pingTimeout{10};
  // Times a request is put back after its slave was lost before it fails
  // with EXCEPTION.
  int maxRetries = 3;
  LogRotationConfig log;  // buildmaster.log
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
  std::string access = "exclusive";  // exclusive | counting
};

struct StepConfig {
  std::string type;  // "shell" | "git" | "trigger"
  std::string name;
  // shell
  std::vector<std::string> argv;  // argv form (no shell)
  std::string command;            // string form, run by /bin/sh -c
  std::string workdir = "build";
  std::map<std::string, std::string> env;
  int timeout = 1200;        // seconds of total run time; 0 = none
  int maxSilence = 0;        // seconds without output; 0 = none
  bool haltOnFailure = true;
  bool flunkOnFailure = true;
  bool warnOnFailure = false;
  // git
  std::string repo;
  std::string branch;    // may interpolate; default %(prop:branch)s
  std::string revision;  // may interpolate; default %(prop:revision)s
  std::string mode = "incremental";  // incremental | full
  std::vector<LockAccess> locks;
  // trigger (runs on the master)
  std::vector<std::string> schedulers;  // triggerable schedulers, non-empty
  bool waitForFinish = false;
  Json setProperties = Json::object();  // string values may interpolate
  std::vector<std::string> copyProperties;
  bool updateSourceStamp = true;  // build the parent's got_revision if it has one
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

// Which changes a change-listening scheduler (single_branch, any_branch,
// nightly with only_if_changed) looks at. Every pattern is a glob (see
// globMatch in master/schedulers/change_filter.hpp), exact when it has no
// wildcard; an empty list accepts every value. A change must pass all of
// them; matches() there applies it.
struct ChangeFilter {
  std::optional<std::string> branch;        // exact branch (the `branch` key)
  std::vector<std::string> branchPatterns;  // branch_pattern (any_branch: or branches)
  std::vector<std::string> repositories;
  std::vector<std::string> projects;
  std::vector<std::string> categories;
};

struct SchedulerEntry {
  std::string name;
  std::string type;  // single_branch | any_branch | force | periodic | nightly | dependent | triggerable | try
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
  std::string type;  // git_poller
  std::string repo;
  std::vector<std::string> branches;
  int interval = 60;
  std::string project;
  std::string category;
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

  const SlaveEntry* findSlave(const std::string& name) const;
  const UserEntry* findUser(const std::string& name) const;
  const BuilderEntry* findBuilder(const std::string& name) const;
  const SchedulerEntry* findScheduler(const std::string& name) const;
};

// Loads and validates a master config file. All errors are collected (not
// just the first) with file:line:column; `config` is set only when there are
// none. Relative paths stay as written; the caller resolves them.
ConfigResult<MasterConfig> loadMasterConfig(const std::string& path);
// The same from YAML text; `name` is used as the file name in errors.
ConfigResult<MasterConfig> parseMasterConfig(const std::string& yaml, const std::string& name);

}  // namespace bb
