#include "master/master_cli.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/cron.hpp"
#include "common/daemon.hpp"
#include "common/logging.hpp"
#include "common/scram.hpp"
#include "master/buildmaster.hpp"
#include "master/db/database.hpp"
#include "master/db/database_file.hpp"
#include "master/schedulers/fire_times.hpp"
#include "master/schedulers/scheduler_set.hpp"

namespace bb {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* kConfigName = "master.yaml";
constexpr const char* kPidName = "buildmaster.pid";
constexpr const char* kLogName = "buildmaster.log";

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
    "  hash-password [--password P]        print a SCRAM verifier for the config\n"
    "Run `buildmaster VERB --help` for a verb's options.\n";

struct Parsed {
  po::variables_map vm;
  bool help = false;
};

// Parses a verb's options; returns nullopt (after printing) on a usage error.
std::optional<Parsed> parse(const std::string& verb, const std::string& synopsis,
                            po::options_description opts, po::positional_options_description pos,
                            const std::vector<std::string>& args) {
  opts.add_options()("help,h", "show this help");
  Parsed p;
  try {
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), p.vm);
    po::notify(p.vm);
  } catch (const po::error& e) {
    std::cerr << "buildmaster " << verb << ": " << e.what() << "\nusage: buildmaster " << synopsis
              << "\n";
    return std::nullopt;
  }
  if (p.vm.count("help")) {
    std::cout << "usage: buildmaster " << synopsis << "\n" << opts;
    p.help = true;
  }
  return p;
}

std::string configPathFor(const std::string& target) {
  return fs::is_directory(target) ? (fs::path(target) / kConfigName).string() : target;
}

// Loads and fully validates the config, including what only the master
// knows (scheduler types it implements). Prints every error.
std::optional<MasterConfig> loadChecked(const std::string& path) {
  if (!fs::exists(path)) {
    std::cerr << path << ": no such file; write the master config there (see "
              << kConfigName << ".sample and docs/configuration.md)\n";
    return std::nullopt;
  }
  auto r = loadMasterConfig(path);
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

const char* kSampleConfig = R"(# A buildmaster config. Every key: docs/configuration.md
master:
  name: my-master
  url: http://localhost:8010/
  slave_port: 9989
  database: sqlite:state.sqlite

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
  po::options_description o("create-master options");
  o.add_options()("dir", po::value<std::string>()->required(), "master directory")(
      "config", po::value<std::string>(), "copy this file in as master.yaml");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto p = parse("create-master", "create-master DIR [--config FILE]", o, pos, args);
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
  std::string dbUrl = "sqlite:state.sqlite";
  if (fs::exists(cfg)) {
    auto r = loadMasterConfig(cfg.string());
    if (r.config) dbUrl = r.config->master.database;
  }
  try {
    // The only verb that makes a database (start refuses a missing one).
    db::openMasterDatabase(databasePath(dir, dbUrl), dir, db::OpenPurpose::Create);
  } catch (const std::exception& e) {
    std::cerr << "cannot create the database: " << e.what() << "\n";
    return 1;
  }
  std::cout << "created master in " << dir << "\n";
  if (!fs::exists(cfg))
    std::cout << "next: write " << cfg.string() << " (start from " << kConfigName
              << ".sample), then run `buildmaster start " << dir << "`\n";
  return 0;
}

int startMaster(const std::string& dir, bool nodaemon) {
  const std::string cfgPath = (fs::path(dir) / kConfigName).string();
  auto cfg = loadChecked(cfgPath);
  if (!cfg) return 1;
  const std::string pidPath = (fs::path(dir) / kPidName).string();
  const std::string logPath = (fs::path(dir) / kLogName).string();
  if (pidFileLocked(pidPath)) {
    auto pid = readPidFile(pidPath);
    std::cerr << "buildmaster is already running in " << dir << " (pid "
              << (pid ? std::to_string(*pid) : "?") << "); stop it first\n";
    return 1;
  }
  const std::string absDir = fs::absolute(dir).lexically_normal().string();
  std::optional<Daemonizer> daemon;
  if (!nodaemon) {
    try {
      daemon.emplace(Daemonizer::start(logPath));
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  std::optional<PidFile> pidFile;
  auto fail = [&](const std::string& msg) {
    spdlog::error("startup failed: {}", msg);
    // Released before the report, so that when `start` has said why it
    // failed, the next command (upgrade-master, create-master, start)
    // does not find this dying process still holding the directory.
    pidFile.reset();
    if (daemon) daemon->failed(msg);
    else std::cerr << "buildmaster: " << msg << "\n";
  };
  try {
    pidFile.emplace(PidFile::acquire(pidPath));
  } catch (const std::exception& e) {
    fail(e.what());
    return 1;
  }
  initLogging(logPath, "info");
  if (nodaemon)
    spdlog::default_logger()->sinks().push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  cfg->path = fs::absolute(cfgPath).string();
  BuildMaster master(absDir, *cfg);
  const int rc = master.run(
      [&] {
        if (daemon) daemon->ready();
        else std::cout << "buildmaster started (pid " << getpid() << ")" << std::endl;
      },
      fail);
  spdlog::default_logger()->flush();
  return rc;
}

int start(const std::vector<std::string>& args) {
  po::options_description o("start options");
  o.add_options()("dir", po::value<std::string>()->required(), "master directory")(
      "nodaemon", po::bool_switch(), "stay in the foreground and log to stderr too");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto p = parse("start", "start DIR [--nodaemon]", o, pos, args);
  if (!p) return 2;
  if (p->help) return 0;
  return startMaster(p->vm["dir"].as<std::string>(), p->vm["nodaemon"].as<bool>());
}

int stopMaster(const std::string& dir, bool clean) {
  std::string message;
  const std::string pidPath = (fs::path(dir) / kPidName).string();
  // A clean stop waits for running builds, so it may take a long time.
  const auto limit = clean ? std::chrono::seconds(24 * 3600) : std::chrono::seconds(60);
  if (clean) std::cout << "waiting for running builds to finish..." << std::endl;
  if (!stopDaemon(pidPath, clean ? SIGUSR1 : SIGTERM, limit, message)) {
    std::cerr << "buildmaster " << message << "\n";
    return 1;
  }
  std::cout << "buildmaster " << message << "\n";
  return 0;
}

int stop(const std::vector<std::string>& args) {
  po::options_description o("stop options");
  o.add_options()("dir", po::value<std::string>()->required(), "master directory")(
      "clean", po::bool_switch(), "start no new builds and wait for running ones to finish");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto p = parse("stop", "stop DIR [--clean]", o, pos, args);
  if (!p) return 2;
  if (p->help) return 0;
  return stopMaster(p->vm["dir"].as<std::string>(), p->vm["clean"].as<bool>());
}

int restart(const std::vector<std::string>& args) {
  po::options_description o("restart options");
  o.add_options()("dir", po::value<std::string>()->required(), "master directory")(
      "nodaemon", po::bool_switch(), "stay in the foreground")(
      "clean", po::bool_switch(), "let running builds finish before stopping");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto p = parse("restart", "restart DIR [--nodaemon] [--clean]", o, pos, args);
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  if (pidFileLocked((fs::path(dir) / kPidName).string())) {
    const int rc = stopMaster(dir, p->vm["clean"].as<bool>());
    if (rc != 0) return rc;
  } else {
    std::cout << "buildmaster was not running\n";
  }
  return startMaster(dir, p->vm["nodaemon"].as<bool>());
}

int reconfig(const std::vector<std::string>& args) {
  po::options_description o("reconfig options");
  o.add_options()("dir", po::value<std::string>()->required(), "master directory")(
      "timeout", po::value<int>()->default_value(30), "seconds to wait for the result");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto p = parse("reconfig", "reconfig DIR", o, pos, args);
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  const std::string pidPath = (fs::path(dir) / kPidName).string();
  const std::string logPath = (fs::path(dir) / kLogName).string();
  auto pid = readPidFile(pidPath);
  if (!pid || !pidFileLocked(pidPath)) {
    std::cerr << "buildmaster is not running in " << dir << "\n";
    return 1;
  }
  std::error_code ec;
  const auto startSize = fs::exists(logPath) ? fs::file_size(logPath, ec) : 0;
  if (kill(*pid, SIGHUP) != 0) {
    std::cerr << "cannot signal pid " << *pid << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  // Follow the log until the master reports the outcome.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(p->vm["timeout"].as<int>());
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(logPath);
    in.seekg(static_cast<std::streamoff>(startSize));
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(in, line)) lines.push_back(line);
    for (const auto& l : lines) {
      if (l.find("reconfig complete") != std::string::npos) {
        std::cout << "reconfig complete\n";
        return 0;
      }
      if (l.find("reconfig failed") != std::string::npos) {
        for (const auto& e : lines)
          if (e.find("reconfig: ") != std::string::npos && e.find("[error]") != std::string::npos)
            std::cerr << e.substr(e.find("reconfig: ") + 10) << "\n";
        std::cerr << l.substr(l.find("reconfig failed")) << "\n";
        return 1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "no reconfig result in " << logPath << " after " << p->vm["timeout"].as<int>()
            << " s; check the log\n";
  return 1;
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
  po::options_description o("checkconfig options");
  o.add_options()("target", po::value<std::string>()->required(), "master directory or config file")(
      "next-fires", po::value<int>()->value_name("N")->default_value(3),
      "list the next N fire times (1-1000) of each nightly and periodic scheduler")(
      "from", po::value<std::string>()->value_name("TIME"),
      "count them from TIME (ISO 8601, e.g. 2024-10-27T02:30:00+02:00; UTC without an "
      "offset) instead of now");
  po::positional_options_description pos;
  pos.add("target", 1);
  auto p = parse("checkconfig", "checkconfig DIR|FILE [--next-fires N] [--from TIME]", o, pos,
                 args);
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
  po::options_description o("upgrade-master options");
  o.add_options()("dir", po::value<std::string>()->required(), "master directory");
  po::positional_options_description pos;
  pos.add("dir", 1);
  auto p = parse("upgrade-master", "upgrade-master DIR", o, pos, args);
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  const std::string pidPath = (fs::path(dir) / kPidName).string();
  if (pidFileLocked(pidPath)) {
    std::cerr << "buildmaster is running in " << dir << "; stop it before upgrading\n";
    return 1;
  }
  std::string url = "sqlite:state.sqlite";
  const std::string cfgPath = (fs::path(dir) / kConfigName).string();
  if (fs::exists(cfgPath)) {
    auto cfg = loadChecked(cfgPath);
    if (!cfg) return 1;
    url = cfg->master.database;
  }
  try {
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
  po::options_description o("hash-password options");
  o.add_options()("password", po::value<std::string>(), "the password (default: read a line from stdin)")(
      "iterations", po::value<int>()->default_value(4096), "PBKDF2 iterations (at least 4096)");
  auto p = parse("hash-password", "hash-password [--password P] [--iterations N]", o, {}, args);
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
  if (verb == "create-master") return createMaster(args);
  if (verb == "start") return start(args);
  if (verb == "stop") return stop(args);
  if (verb == "restart") return restart(args);
  if (verb == "reconfig") return reconfig(args);
  if (verb == "checkconfig") return checkconfig(args);
  if (verb == "upgrade-master") return upgradeMaster(args);
  if (verb == "hash-password") return hashPassword(args);
  std::cerr << "buildmaster: unknown verb '" << verb << "'\n" << kUsage;
  return 2;
}

}  // namespace bb
