#include "master/master_cli.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "common/cron.hpp"
#include "common/daemon.hpp"
#include "common/saslprep.hpp"
#include "common/scram.hpp"
#include "common/version.hpp"
#include "master/admin/admin.hpp"
#include "master/buildmaster.hpp"
#include "master/config_kinds.hpp"
#include "master/db/database.hpp"
#include "master/db/database_file.hpp"
#include "master/schedulers/fire_times.hpp"

namespace bb {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

using admin::configPathFor;
using admin::dirArg;
using admin::kConfigName;
using admin::loadChecked;
using admin::parseMasterVerb;

const char* kUsage =
    "usage: buildmaster VERB [options]\n"
    "verbs:\n"
    "  create-master DIR [--config FILE]   make a master directory\n"
    "  start DIR [--nodaemon]              start the master\n"
    "  stop DIR [--clean]                  stop it (--clean: let running builds finish)\n"
    "  restart DIR [--nodaemon] [--clean]  stop, then start\n"
    "  reconfig DIR                        reload master.yaml without stopping\n"
    "  checkconfig DIR|FILE [--next-fires N] [--from TIME]\n"
    "                                      validate a config and list every error; print\n"
    "                                      the next fire times of timed schedulers\n"
    "  upgrade-master DIR                  migrate the database to this version\n"
    "  cleanupdb DIR --older-than DAYS     delete old builds and logs, compact the database\n"
    "  hash-password [--password P]        print a SCRAM verifier for the config\n"
    "  fingerprint DIR                     print the TLS certificate fingerprint that\n"
    "                                      slaves and clients pin\n"
    "Run `buildmaster VERB --help` for a verb's options; `buildmaster --version`.\n";

const char* kSampleConfig = R"(# A buildmaster config. Every key: docs/configuration.md
master:
  name: my-master
  url: http://localhost:8010/
  slave_port: 9989
  database: sqlite:state.sqlite
  # TLS for slaves and clients; create-master made this pair. They pin the
  # certificate: `buildmaster fingerprint DIR` prints its fingerprint.
  tls: true
  tls_cert: master.crt
  tls_key: master.key

slaves:
  # password: the output of `buildmaster hash-password`
  - { name: slave1, password: "scram-sha-256$4096:...", max_builds: 1 }

users:
  - { name: alice, password: "scram-sha-256$4096:...", may: [sendchange, force, status] }

builders:
  - name: build
    slaves: [slave1]
    steps:
      - { git: { repo: /srv/git/project.git } }
      - { shell: { name: test, command: "make test" } }

schedulers:
  - { name: on-commit, type: single_branch, branch: main, builders: [build] }
  - { name: force, type: force, builders: [build] }

change_sources:
  - { type: git_poller, name: project, repo: /srv/git/project.git, branches: [main], interval: 60 }
)";

int createMaster(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("config", po::value<std::string>()->value_name("FILE"),
                  "copy this file in as master.yaml");
  auto p = parseMasterVerb("create-master", "create-master DIR [--config FILE]", o, args,
                           {dirArg()});
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << "cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  const fs::path cfg = fs::path(dir) / kConfigName;
  if (p->vm.count("config")) {
    if (fs::exists(cfg)) {
      std::cerr << cfg.string() << " already exists; not overwriting it\n";
      return 1;
    }
    fs::copy_file(p->vm["config"].as<std::string>(), cfg, ec);
    if (ec) {
      std::cerr << "cannot copy " << p->vm["config"].as<std::string>() << ": " << ec.message() << "\n";
      return 1;
    }
  }
  {
    std::ofstream sample(fs::path(dir) / (std::string(kConfigName) + ".sample"));
    sample << kSampleConfig;
    if (!sample) {
      std::cerr << "cannot write the sample config in " << dir << "\n";
      return 1;
    }
  }
  MasterSection section;  // the defaults, or what the given config says
  if (fs::exists(cfg)) {
    auto r = loadMasterConfig(cfg.string(), masterConfigKinds());
    if (r.config) section = r.config->master;
  }
  const std::string dbUrl = section.database;
  try {
    // The only verb that makes a database (start refuses a missing one).
    useDatabasePassword(dir, section);
    db::openMasterDatabase(databasePath(dir, dbUrl), dir, db::OpenPurpose::Create);
  } catch (const std::exception& e) {
    std::cerr << "cannot create the database: " << e.what() << "\n";
    return 1;
  }
  if (int rc = admin::createMasterCertificate(dir, section); rc != 0) return rc;
  std::cout << "created master in " << dir << "\n";
  if (!fs::exists(cfg))
    std::cout << "next: write " << cfg.string() << " (start from " << kConfigName
              << ".sample), then run `buildmaster start " << dir << "`\n";
  return 0;
}

// The last periodic runs recorded in the master's database, when `target`
// is a master directory that has one.
LastRunLookup lastRunsOf(const std::string& target, const MasterConfig& config) {
  try {
    if (fs::is_directory(target))
      return lastRunsFromDatabase(databasePath(target, config.master.database));
  } catch (const std::exception&) {
    // An unsupported database URL: checkconfig reported it; no runs known.
  }
  return nullptr;
}

int checkconfig(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()(
      "next-fires", po::value<int>()->value_name("N")->default_value(3),
      "list the next N fire times (1-1000) of each nightly and periodic scheduler")(
      "from", po::value<std::string>()->value_name("TIME"),
      "count them from TIME (ISO 8601, e.g. 2024-10-27T02:30:00+02:00; UTC without an "
      "offset) instead of now");
  auto p = parseMasterVerb("checkconfig", "checkconfig DIR|FILE [--next-fires N] [--from TIME]", o,
                           args, {{"target", "DIR|FILE", "a master directory or a config file", true}});
  if (!p) return 2;
  if (p->help) return 0;
  const int n = p->vm["next-fires"].as<int>();
  if (n < 1 || n > 1000) {
    std::cerr << "buildmaster checkconfig: --next-fires must be 1 to 1000, got " << n << "\n";
    return 2;
  }
  WallTime from = std::chrono::system_clock::now();
  if (p->vm.count("from")) {
    const std::string text = p->vm["from"].as<std::string>();
    auto t = parseIsoTime(text);
    if (!t) {
      std::cerr << "buildmaster checkconfig: --from '" << text
                << "' is not an ISO 8601 time such as 2024-10-27T02:30:00+02:00 or "
                   "2024-10-27T00:30Z\n";
      return 2;
    }
    from = *t;
  }
  const std::string target = p->vm["target"].as<std::string>();
  const std::string path = configPathFor(target);
  const auto config = loadChecked(path);
  if (!config) return 1;
  std::cout << path << ": config is good\n";
  std::cout << describeNextFires(config->schedulers, from, n, lastRunsOf(target, *config));
  return 0;
}

int upgradeMaster(const std::vector<std::string>& args) {
  po::options_description o("options");
  auto p = parseMasterVerb("upgrade-master", "upgrade-master DIR", o, args, {dirArg()});
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  if (pidFileLocked(admin::pidPathFor(dir))) {
    std::cerr << "buildmaster is running in " << dir << "; stop it before upgrading\n";
    return 1;
  }
  std::string url = "sqlite:state.sqlite";
  MasterSection section;
  const std::string cfgPath = (fs::path(dir) / kConfigName).string();
  if (fs::exists(cfgPath)) {
    auto cfg = loadChecked(cfgPath);
    if (!cfg) return 1;
    url = cfg->master.database;
    section = cfg->master;
  }
  try {
    useDatabasePassword(dir, section);
    auto db = db::openMasterDatabase(databasePath(dir, url), dir, db::OpenPurpose::Upgrade);
    const int from = db->schemaVersion();
    const int to = db::Database::latestSchemaVersion();
    if (from == to) {
      std::cout << "database is already at schema version " << to << "\n";
      return 0;
    }
    db->upgrade();
    std::cout << "database upgraded from schema version " << from << " to " << to << "\n";
  } catch (const std::exception& e) {
    std::cerr << "upgrade failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int hashPassword(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("password", po::value<std::string>()->value_name("P"),
                  "the password (default: read a line from stdin)")(
      "iterations", po::value<int>()->default_value(4096)->value_name("N"),
      "PBKDF2 iterations (at least 4096)");
  auto p = parseMasterVerb("hash-password", "hash-password [--password P] [--iterations N]", o,
                           args, {});
  if (!p) return 2;
  if (p->help) return 0;
  std::string pw;
  if (p->vm.count("password")) {
    pw = p->vm["password"].as<std::string>();
  } else {
    if (isatty(0)) std::cerr << "password: " << std::flush;
    std::getline(std::cin, pw);
  }
  if (pw.empty()) {
    std::cerr << "hash-password: the password must not be empty\n";
    return 2;
  }
  std::string why;
  if (!saslPrep(pw, SaslPrepMode::Stored, why)) {
    std::cerr << "hash-password: this password cannot be used: " << why
              << "; choose another (docs/protocol.md, SCRAM)\n";
    return 2;
  }
  const int iterations = p->vm["iterations"].as<int>();
  if (iterations < 4096) {
    std::cerr << "hash-password: --iterations must be at least 4096\n";
    return 2;
  }
  std::cout << makeScramVerifier(pw, iterations) << "\n";
  return 0;
}

}  // namespace

int masterMain(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string verb = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (verb == "--help" || verb == "-h" || verb == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (verb == "--version" || verb == "version") {
    std::cout << "buildmaster " << kVersionLine << "\n";
    return 0;
  }
  if (verb == "create-master") return createMaster(args);
  if (verb == "start") return admin::startVerb(args);
  if (verb == "stop") return admin::stopVerb(args);
  if (verb == "restart") return admin::restartVerb(args);
  if (verb == "reconfig") return admin::reconfigVerb(args);
  if (verb == "checkconfig") return checkconfig(args);
  if (verb == "upgrade-master") return upgradeMaster(args);
  if (verb == "cleanupdb") return admin::cleanupdbVerb(args);
  if (verb == "hash-password") return hashPassword(args);
  if (verb == "fingerprint") return admin::fingerprintVerb(args);
  std::cerr << "buildmaster: unknown verb '" << verb << "'\n" << kUsage;
  return 2;
}

}  // namespace bb
