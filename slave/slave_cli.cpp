#include "slave/slave_cli.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <spdlog/spdlog.h>

#include "common/daemon.hpp"
#include "common/daemon_start.hpp"
#include "common/event_loop.hpp"
#include "common/logging.hpp"
#include "common/master_address.hpp"
#include "common/service_notify.hpp"
#include "common/tls_cert.hpp"
#include "common/verb_args.hpp"
#include "common/version.hpp"
#include "config/slave_config.hpp"
#include "slave/child_reaper.hpp"
#include "slave/process.hpp"
#include "slave/slave_session.hpp"

namespace bb {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* kConfigName = "slave.yaml";
constexpr const char* kPidName = "buildslave.pid";
constexpr const char* kLogName = "buildslave.log";
constexpr std::chrono::seconds kStopTimeout{20};
// How long `stop --graceful` waits by default (the builds' own length),
// and how often it says it is still waiting.
constexpr std::chrono::seconds kGracefulWaitDefault{24 * 3600};
constexpr std::chrono::seconds kGracefulProgressEvery{30};

const char* kUsage =
    "usage: buildslave VERB [options]\n"
    "verbs:\n"
    "  create-slave DIR HOST:PORT NAME PASSWORD (--master-fingerprint FP | --ca-file FILE\n"
    "               | --plaintext) [--basedir DIR] [--keepalive SECONDS]\n"
    "                                  make a slave directory with its slave.yaml\n"
    "  start DIR [--nodaemon]          start the slave\n"
    "  stop DIR [--graceful [--wait SECONDS]]\n"
    "                                  stop it (running commands are killed); with\n"
    "                                  --graceful, finish its builds first, take no new ones\n"
    "  restart DIR [--nodaemon]        stop, then start\n"
    "Run `buildslave VERB --help` for a verb's options; `buildslave --version`.\n";

// parseVerb() for "buildslave VERB" on std::cout / std::cerr.
std::optional<ParsedVerb> parse(const std::string& verb, const std::string& synopsis,
                                const po::options_description& opts,
                                std::vector<VerbPositional> positionals,
                                const std::vector<std::string>& args) {
  return parseVerb(VerbSpec{"buildslave", verb, synopsis, std::move(positionals)}, opts, args,
                   std::cout, std::cerr);
}

// "master h:p", or "masters h1:p1, h2:p2" for a slave of several.
std::string mastersText(const SlaveConfig& c) {
  std::string out;
  for (const SlaveMasterEntry& m : masterEntries(c))
    out += (out.empty() ? "" : ", ") + MasterAddress{m.host, m.port}.toString();
  return (c.masters.size() > 1 ? "masters " : "master ") + out;
}

VerbPositional dirArg() { return {"dir", "DIR", "the slave directory", true}; }

int createSlave(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("basedir", po::value<std::string>()->value_name("DIR"),
                  "where builds run (default: DIR)")(
      "keepalive", po::value<int>()->value_name("SECONDS"),
      "seconds between heartbeats (default 10)")(
      "master-fingerprint", po::value<std::string>()->value_name("FP"),
      "the master's certificate fingerprint, SHA256:... (`buildmaster fingerprint DIR`)")(
      "ca-file", po::value<std::string>()->value_name("FILE"),
      "trust the master's certificate if it chains to a CA in this PEM file")(
      "plaintext", "connect over plain TCP (the master has tls: false)")(
      "failover-master", po::value<std::vector<std::string>>()->value_name("HOST:PORT[=FP]"),
      "another master of the same cluster, tried when the one before fails (repeatable); "
      "=FP pins its certificate, else --master-fingerprint/--ca-file apply");
  const char* synopsis =
      "create-slave DIR HOST:PORT NAME PASSWORD (--master-fingerprint FP | --ca-file FILE | "
      "--plaintext) [--failover-master HOST:PORT[=FP]]... [--basedir DIR] [--keepalive SECONDS]";
  auto p = parse("create-slave", synopsis, o,
                 {{"dir", "DIR", "the slave directory to create", true},
                  {"master", "HOST:PORT", "the master's slave port", true},
                  {"name", "NAME", "this slave's name on the master", true},
                  {"password", "PASSWORD", "this slave's password", true}},
                 args);
  if (!p) return 2;
  if (p->help) return 0;

  const std::string dir = p->vm["dir"].as<std::string>();
  SlaveConfig c;
  std::string addressError;
  auto addr = parseMasterAddress(p->vm["master"].as<std::string>(), addressError);
  if (!addr) {
    std::cerr << "buildslave create-slave: bad master address '" << p->vm["master"].as<std::string>()
              << "': " << addressError << " (usage: buildslave " << synopsis << ")\n";
    return 2;
  }
  c.masterHost = addr->host;
  c.masterPort = addr->port;
  c.name = p->vm["name"].as<std::string>();
  c.password = p->vm["password"].as<std::string>();
  if (p->vm.count("basedir")) c.basedir = p->vm["basedir"].as<std::string>();
  if (p->vm.count("keepalive")) {
    int k = p->vm["keepalive"].as<int>();
    if (k < 1 || k > 3600) {
      std::cerr << "buildslave create-slave: --keepalive must be 1-3600 seconds, got " << k << "\n";
      return 2;
    }
    c.heartbeatInterval = std::chrono::seconds(k);
    c.heartbeatTimeout = std::chrono::seconds(std::max(3 * k, 30));
  }

  if (p->vm.count("plaintext")) {
    if (p->vm.count("master-fingerprint") || p->vm.count("ca-file")) {
      std::cerr << "buildslave create-slave: --plaintext cannot go with --master-fingerprint or "
                   "--ca-file\n";
      return 2;
    }
    c.tls = false;
  } else if (!p->vm.count("master-fingerprint") && !p->vm.count("ca-file")) {
    std::cerr << "buildslave create-slave: say how to trust the master: --master-fingerprint "
                 "SHA256:... (run `buildmaster fingerprint DIR` on the master), --ca-file FILE, "
                 "or --plaintext for a master with tls: false\n";
    return 2;
  }
  if (p->vm.count("master-fingerprint")) {
    const std::string text = p->vm["master-fingerprint"].as<std::string>();
    std::string why;
    auto fp = normalizeFingerprint(text, why);
    if (!fp) {
      std::cerr << "buildslave create-slave: --master-fingerprint '" << text << "': " << why << "\n";
      return 2;
    }
    c.masterFingerprint = *fp;
  }
  if (p->vm.count("ca-file")) c.caFile = fs::absolute(p->vm["ca-file"].as<std::string>()).string();
  if (p->vm.count("failover-master")) {
    // The first master keeps the pin of --master-fingerprint; each other
    // one its own (after '='), or that one too.
    c.masters.push_back({c.masterHost, c.masterPort, {}});
    for (const std::string& text : p->vm["failover-master"].as<std::vector<std::string>>()) {
      const std::size_t eq = text.find('=');
      std::string why;
      auto a = parseMasterAddress(text.substr(0, eq), why);
      if (!a) {
        std::cerr << "buildslave create-slave: bad --failover-master '" << text << "': " << why << "\n";
        return 2;
      }
      SlaveMasterEntry e{a->host, a->port, {}};
      if (eq != std::string::npos) {
        auto fp = normalizeFingerprint(text.substr(eq + 1), why);
        if (!fp) {
          std::cerr << "buildslave create-slave: --failover-master '" << text << "': " << why << "\n";
          return 2;
        }
        if (!c.tls) {
          std::cerr << "buildslave create-slave: --failover-master '" << text
                    << "' pins a certificate, but --plaintext turns TLS off\n";
          return 2;
        }
        e.fingerprint = *fp;
      }
      c.masters.push_back(std::move(e));
    }
  }

  const fs::path cfg = fs::path(dir) / kConfigName;
  std::error_code ec;
  if (fs::exists(cfg, ec)) {
    std::cerr << cfg.string() << " already exists; not overwriting it\n";
    return 1;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << "cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  try {
    writeSlaveConfig(c, cfg.string());
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  // Check what we wrote the way `start` will read it (names, ranges).
  auto r = loadSlaveConfig(cfg.string());
  if (!r.ok()) {
    for (const auto& e : r.errors) std::cerr << e.toString() << "\n";
    std::cerr << "fix " << cfg.string() << " before starting the slave\n";
    return 1;
  }
  std::cout << "created slave '" << c.name << "' in " << dir << " for " << mastersText(c)
            << "\nnext: buildslave start " << dir << "\n";
  return 0;
}

// Loads DIR/slave.yaml and makes basedir absolute (relative to DIR).
std::optional<SlaveConfig> loadConfig(const std::string& dir) {
  // An absolute path makes the default basedir (the config's directory)
  // absolute too; a configured relative basedir is relative to DIR.
  const std::string path = (fs::absolute(dir) / kConfigName).lexically_normal().string();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    std::cerr << path << ": no such file; run `buildslave create-slave` first\n";
    return std::nullopt;
  }
  auto r = loadSlaveConfig(path);
  if (!r.ok()) {
    for (const auto& e : r.errors) std::cerr << e.toString() << "\n";
    std::cerr << path << ": " << r.errors.size() << " error(s); the slave was not started\n";
    return std::nullopt;
  }
  SlaveConfig c = *r.config;
  fs::path base(c.basedir);
  if (base.is_relative()) base = fs::absolute(dir) / base;
  c.basedir = base.lexically_normal().string();
  while (c.basedir.size() > 1 && c.basedir.back() == '/') c.basedir.pop_back();
  return c;
}

int startSlave(const std::string& dir, bool nodaemon) {
  auto cfg = loadConfig(dir);
  if (!cfg) return 1;
  DaemonStartOptions o;
  o.program = "buildslave";
  o.dir = dir;
  o.pidPath = (fs::absolute(dir) / kPidName).string();
  o.logPath = (fs::absolute(dir) / kLogName).lexically_normal().string();
  o.foreground = nodaemon;
  o.logRotateBytes = cfg->log.maxBytes();
  o.logKeep = cfg->log.keep;
  auto daemon = DaemonStart::begin(o);
  if (!daemon) return 1;
  auto fail = [&](const std::string& msg) { return daemon->failed(msg); };
  std::string error;
  if (!makeDirs(cfg->basedir, error)) return fail(error);
  // Orphaned grandchildren of commands come back to us, so a tree kill
  // and the reaper can see them.
  if (!ChildReaper::becomeSubreaper(error)) return fail(error);
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) return fail(std::string("signal(SIGPIPE): ") + std::strerror(errno));

  boost::asio::io_context io;
  AsioClock clock(io);
  ChildReaper reaper(io);
  SlaveSession session(io, clock, reaper, *cfg);
  if (cfg->tls) {
    try {
      std::vector<std::shared_ptr<TlsContext>> perMaster;
      for (const SlaveMasterEntry& m : masterEntries(*cfg))
        perMaster.push_back(TlsContext::forClient(m.fingerprint.empty() ? cfg->masterFingerprint : m.fingerprint,
                                                  cfg->caFile));
      session.setTls(std::move(perMaster));
    } catch (const TlsError& e) {
      return fail(e.what());
    }
  }
  boost::asio::signal_set signals(io);
  boost::system::error_code ec;
  signals.add(SIGTERM, ec);
  if (!ec) signals.add(SIGINT, ec);
  if (!ec) signals.add(SIGUSR1, ec);
  if (ec) return fail("cannot watch SIGTERM/SIGINT/SIGUSR1: " + ec.message());
  std::function<void(const boost::system::error_code&, int)> onSignal =
      [&](const boost::system::error_code& e, int sig) {
        if (e) return;
        if (sig == SIGUSR1) {
          // Graceful: 1. ask the master to start no new builds here, 2. run
          // the builds we have to their end, 3. on the master's ShutdownReady
          // close the connection and leave the loop. A later SIGTERM still
          // stops at once.
          spdlog::info("received SIGUSR1; stopping gracefully: finishing this slave's builds, "
                       "accepting no new ones");
          notifyStopping("stopping gracefully: finishing this slave's builds");
          session.stopGracefully([&io] { io.stop(); });
        } else {
          spdlog::info("received {}; stopping: killing running commands, closing the connection",
                       sig == SIGTERM ? "SIGTERM" : "SIGINT");
          // Shutdown: 1. kill every command's tree, 2. close the connection,
          // 3. leave the loop once every tree is gone (bounded by kill_grace).
          notifyStopping("stopping: killing running commands");
          session.stop([&io] { io.stop(); });
        }
        signals.async_wait(onSignal);
      };
  signals.async_wait(onSignal);
  // The master's graceful stop (from its web page or API): the builds
  // ended, the connection is closed; leave the loop and exit 0.
  session.onStoppedByMaster([&io] { io.stop(); });

  const std::string masters = mastersText(*cfg);
  spdlog::info("buildslave '{}' starting (pid {}), basedir {}, {}", cfg->name, ::getpid(),
               cfg->basedir, masters);
  session.start();
  daemon->ready("buildslave '" + cfg->name + "' started in " +
                fs::absolute(dir).lexically_normal().string() + ": pid " +
                std::to_string(::getpid()) + ", " + masters + ", log " + o.logPath);
  io.run();
  spdlog::info("buildslave stopped");
  shutdownLogging();
  return 0;
}

int stopSlave(const std::string& dir, bool quietIfStopped) {
  const std::string pidPath = (fs::path(dir) / kPidName).string();
  if (!pidFileLocked(pidPath)) {
    if (quietIfStopped) return 0;
    std::cerr << "buildslave not running (no live pid file " << pidPath << ")\n";
    return 1;
  }
  std::string message;
  if (!stopDaemon(pidPath, SIGTERM, kStopTimeout, message)) {
    std::cerr << "buildslave stop: " << message << "\n";
    return 1;
  }
  std::cout << message << "\n";
  return 0;
}

// SIGUSR1 to the slave, then waits up to `wait` for it to exit, saying
// every kGracefulProgressEvery that it still waits.
int stopSlaveGracefully(const std::string& dir, std::chrono::seconds wait) {
  const std::string pidPath = (fs::path(dir) / kPidName).string();
  if (!pidFileLocked(pidPath)) {
    std::cerr << "buildslave not running (no live pid file " << pidPath << ")\n";
    return 1;
  }
  const auto pid = readPidFile(pidPath);
  if (!pid) {
    std::cerr << "buildslave stop: pid file " << pidPath << " is locked but holds no pid\n";
    return 1;
  }
  if (::kill(*pid, SIGUSR1) != 0) {
    std::cerr << "buildslave stop: cannot signal pid " << *pid << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }
  std::cout << "asked buildslave (pid " << *pid
            << ") to stop gracefully: it finishes the builds it has and takes no new ones; "
               "waiting up to "
            << wait.count() << " s for it to exit (`buildslave stop " << dir
            << "` stops it at once)" << std::endl;
  std::chrono::seconds waited{0};
  while (waited < wait) {
    const auto slice = std::min(kGracefulProgressEvery, wait - waited);
    if (waitForExit(*pid, slice)) {
      // The lock goes with the process; allow a moment for it.
      for (int i = 0; i < 250 && pidFileLocked(pidPath); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::cout << "stopped gracefully (pid " << *pid << ")" << std::endl;
      return 0;
    }
    waited += slice;
    if (waited < wait)
      std::cout << "still waiting for buildslave (pid " << *pid << ") to finish its builds ("
                << waited.count() << " s)" << std::endl;
  }
  std::cerr << "buildslave stop: pid " << *pid << " is still finishing its builds after "
            << wait.count() << " s; it keeps draining. Run `buildslave stop " << dir
            << "` to stop it now (its running builds are then retried elsewhere)\n";
  return 1;
}

int start(const std::vector<std::string>& args, bool restart) {
  po::options_description o("options");
  o.add_options()("nodaemon", po::bool_switch(),
                  "stay in the foreground and log to stderr too (systemd runs it so)");
  const std::string verb = restart ? "restart" : "start";
  auto p = parse(verb, verb + " DIR [--nodaemon]", o, {dirArg()}, args);
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  if (restart) {
    int rc = stopSlave(dir, /*quietIfStopped=*/true);
    if (rc != 0) return rc;
  }
  return startSlave(dir, p->vm["nodaemon"].as<bool>());
}

int stop(const std::vector<std::string>& args) {
  po::options_description o("options");
  o.add_options()("graceful", po::bool_switch(),
                  "finish the builds the slave has and take no new ones, then exit (SIGUSR1)")(
      "wait", po::value<long>(),
      "with --graceful: seconds to wait for the slave to exit (default 86400)");
  const char* synopsis = "stop DIR [--graceful [--wait SECONDS]]";
  auto p = parse("stop", synopsis, o, {dirArg()}, args);
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  const bool graceful = p->vm["graceful"].as<bool>();
  if (p->vm.count("wait") && !graceful) {
    std::cerr << "buildslave stop: --wait applies to --graceful only (usage: buildslave "
              << synopsis << ")\n";
    return 2;
  }
  if (!graceful) return stopSlave(dir, false);
  std::chrono::seconds wait = kGracefulWaitDefault;
  if (p->vm.count("wait")) {
    const long w = p->vm["wait"].as<long>();
    if (w < 1 || w > 30L * 24 * 3600) {
      std::cerr << "buildslave stop: --wait must be 1-2592000 seconds, got " << w << "\n";
      return 2;
    }
    wait = std::chrono::seconds(w);
  }
  return stopSlaveGracefully(dir, wait);
}

}  // namespace

int slaveMain(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string verb = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (verb == "create-slave") return createSlave(args);
    if (verb == "start") return start(args, false);
    if (verb == "restart") return start(args, true);
    if (verb == "stop") return stop(args);
    if (verb == "--help" || verb == "-h" || verb == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (verb == "--version" || verb == "version") {
      std::cout << "buildslave " << kVersionLine << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "buildslave " << verb << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "buildslave: unknown verb '" << verb << "' (verbs: create-slave, start, stop, restart)\n";
  return 2;
}

}  // namespace bb
