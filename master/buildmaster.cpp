#include "master/buildmaster.hpp"

#include <cstdlib>
#include <filesystem>
#include <set>

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include "common/event_loop.hpp"
#include "common/logging.hpp"
#include "common/service_notify.hpp"
#include "config/config_diff.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/changes/change_bus.hpp"
#include "master/changes/change_source.hpp"
#include "master/config_kinds.hpp"
#include "master/db/database.hpp"
#include "master/db/database_file.hpp"
#include "master/events/event_bus.hpp"
#include "master/locks/lock_manager.hpp"
#include "master/master_identity.hpp"
#include "master/process/build.hpp"
#include "master/process/distributor.hpp"
#include "master/process/pending_writes.hpp"
#include "master/schedulers/scheduler_set.hpp"
#include "master/reporters/reporter.hpp"
#include "master/secrets/secret_store.hpp"
#include "master/changes/webhook_source.hpp"
#include "master/cluster/cluster_events.hpp"
#include "master/cluster/master_takeover.hpp"
#include "master/cluster/master_watch.hpp"
#include "master/cluster/shared_locks.hpp"
#include "master/port/master_port.hpp"
#include "master/slaves/slave_registry.hpp"
#include "master/status/rpc_handler.hpp"
#include "master/web/web_service.hpp"
#include "master/artifacts/artifact_store.hpp"
#include "master/artifacts/retention.hpp"

namespace bb {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {
constexpr auto kCleanShutdownLimit = std::chrono::hours(24);
constexpr auto kInterruptLimit = std::chrono::seconds(10);
// What reporters may still send at shutdown, in all.
constexpr auto kReporterDrainLimit = std::chrono::seconds(10);
}  // namespace

std::string databasePath(const std::string& dir, const std::string& url) {
  if (db::isServerDatabase(url)) return url;
  const std::string prefix = "sqlite:";
  if (url.rfind(prefix, 0) != 0)
    throw std::runtime_error("unsupported database '" + url +
                             "': use sqlite:PATH or postgresql://USER@HOST:PORT/DB");
  fs::path p = url.substr(prefix.size());
  if (p.empty()) throw std::runtime_error("database 'sqlite:' needs a file name");
  return p.is_absolute() ? p.string() : (fs::path(dir) / p).string();
}

struct BuildMaster::Impl {
  Impl(std::string d, MasterConfig c) : dir(std::move(d)), config(std::move(c)), clock(io) {}
  ~Impl() {
    setLogFilter({});  // the filter holds this master's secrets
    // The schedulers stop after the cluster is gone.
    if (bus) bus->onSubscribersChanged({});
  }

  std::string dir;
  MasterConfig config;
  asio::io_context io;
  AsioClock clock;
  asio::thread_pool worker{1};
  std::unique_ptr<db::Database> db;
  std::unique_ptr<MasterIdentity> identity;
  std::unique_ptr<EventBus> events;
  std::unique_ptr<LockManager> locks;
  std::unique_ptr<SharedLocks> sharedLocks;  // locks' claims; only on a shared database
  std::unique_ptr<SlaveRegistry> slaves;
  std::unique_ptr<BuildsetService> buildsets;
  std::unique_ptr<BuildRequestDistributor> distributor;
  std::unique_ptr<PendingWrites> storage;
  std::unique_ptr<ArtifactStore> artifacts;
  std::unique_ptr<RetentionJanitor> retention;
  std::unique_ptr<ChangeBus> bus;
  std::unique_ptr<SchedulerSet> schedulers;
  std::unique_ptr<ClusterEvents> cluster;  // inert unless the database is shared
  std::unique_ptr<MasterWatch> watch;      // only on a shared database
  std::unique_ptr<ReportClaims> reportClaims;  // only on a shared database; outlives the reporters
  std::unique_ptr<RpcHandler> rpc;
  std::unique_ptr<MasterPort> port;
  std::unique_ptr<web::WebService> web;  // null when master.web_port is 0
  std::unique_ptr<ChangeSourceServices> sourceServices;
  std::vector<std::unique_ptr<ChangeSource>> changeSources;
  std::vector<std::unique_ptr<Reporter>> reporters;
  // Reporters a reconfig replaced: they take no new events but still send
  // what they queued; finished at shutdown.
  std::vector<std::unique_ptr<Reporter>> retiredReporters;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<Timer> shutdownTimer;
  bool shuttingDown = false;
  bool shutdownFinished = false;

  void post(std::function<void()> fn) { asio::post(io, std::move(fn)); }
  void recover();
  void configureComponents();
  void startPollers();
  void startReporters(std::shared_ptr<const SecretStore> secrets);
  void finishReporters();
  void reconfig();
  void shutdown(bool clean);
  void finishShutdown();
  void waitSignals();
};

BuildMaster::BuildMaster(std::string dir, MasterConfig config)
    : impl_(std::make_unique<Impl>(std::move(dir), std::move(config))) {}

BuildMaster::~BuildMaster() = default;

void BuildMaster::requestReconfig() {
  asio::post(impl_->io, [im = impl_.get()] { im->reconfig(); });
}

void BuildMaster::requestShutdown(bool clean) {
  asio::post(impl_->io, [im = impl_.get(), clean] { im->shutdown(clean); });
}

void BuildMaster::Impl::recover() {
  // Builds of this master that were running when it died are recorded as
  // RETRY with their logs closed, and its claims are released: requests
  // run again, none is lost and none runs twice. Work from before masters
  // had identities counts as this master's; other masters' work is theirs
  // (or, on a shared database, a survivor's once their owner is declared
  // dead: master/cluster/master_watch.hpp).
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       clock.wallNow().time_since_epoch())
                       .count();
  const db::MasterId self = identity->id();
  db->transaction([&] {
    const TakenOver t = takeOverWorkOf(*db, self, now, "master stopped uncleanly", /*releaseSchedulers=*/false);
    if (t.builds || t.requests || t.locks)
      spdlog::warn("recovered from an unclean stop: {} build(s) marked retry, {} request(s) back in the "
                   "queue, {} lock hold(s) dropped",
                   t.builds, t.requests, t.locks);
  });
  for (const auto& w : db->otherMastersWork(self))
    spdlog::warn("master '{}' (last heartbeat at {}) still holds {} claimed request(s) and {} unfinished "
                 "build(s); this master ('{}') does not take them over{}. If it was this master under "
                 "another master.name, set that name back to recover them",
                 w.master.name, w.master.lastHeartbeat, w.claimedRequests, w.unfinishedBuilds,
                 identity->name(),
                 db->isShared() ? " unless it stays silent past dead_after" : "");
}

void BuildMaster::Impl::configureComponents() {
  // The secrets as this config read them: builds started from now on use
  // them, and their values are masked in events and in the master's log.
  auto secrets = std::make_shared<const SecretStore>(config.secrets.values);
  if (sourceServices) sourceServices->secrets = secrets;
  distributor->setSecrets(secrets);
  events->setMasking(secrets);
  if (secrets->empty()) setLogFilter({});
  else setLogFilter([secrets](std::string_view text) { return secrets->mask(text); });
  locks->configure(config.locks);
  slaves->configure(config.slaves);
  distributor->configure(config);
  artifacts->setMaxBuildBytes(config.master.artifactsMaxBuildSize);
  retention->configure(config.retention);
  std::set<std::string> collapsing;
  for (const auto& b : config.builders)
    if (b.collapseRequests) collapsing.insert(b.name);
  buildsets->setCollapsingBuilders(std::move(collapsing));
  schedulers->configure(config.schedulers);
  startReporters(secrets);
}

void BuildMaster::Impl::startReporters(std::shared_ptr<const SecretStore> secrets) {
  // A reconfig replaces every reporter; one of the same name and type
  // takes over what its predecessor queued, the others finish theirs.
  std::vector<std::unique_ptr<Reporter>> old = std::move(reporters);
  reporters.clear();
  for (auto& r : old) r->stop();
  ReporterServices services{*db, *events, clock, [this]() -> const MasterConfig& { return config; },
                            std::move(secrets), [this](std::function<void()> fn) { post(std::move(fn)); },
                            &io, rpc.get(), reportClaims.get()};
  for (const auto& entry : config.reporters) {
    const ReporterType* type = findReporterType(entry.type);
    if (!type) {
      spdlog::error("reporter {}: type {} is not implemented; ignored", entry.name, entry.type);
      continue;
    }
    try {
      auto reporter = type->make(entry, services);
      for (auto& o : old)
        if (o->config().name == entry.name && o->config().type == entry.type) reporter->adopt(*o);
      reporter->start();
      reporters.push_back(std::move(reporter));
    } catch (const std::exception& e) {
      spdlog::error("reporter {}: cannot start: {}; it reports nothing until a reconfig", entry.name, e.what());
    }
  }
  for (auto& r : old) retiredReporters.push_back(std::move(r));
}

void BuildMaster::Impl::finishReporters() {
  const auto deadline = std::chrono::steady_clock::now() + kReporterDrainLimit;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      deadline - std::chrono::steady_clock::now()));
  };
  for (auto& r : reporters) r->stop();
  for (auto& r : retiredReporters) r->finish(left());
  for (auto& r : reporters) r->finish(left());
}

void BuildMaster::Impl::startPollers() {
  changeSources.clear();
  for (const auto& cs : config.changeSources) {
    const ChangeSourceType* type = findChangeSourceType(cs.type);
    if (!type) {
      spdlog::error("change source {}: type {} is not implemented; ignored", cs.name, cs.type);
      continue;
    }
    auto source = type->make(cs, *sourceServices);
    source->start();
    changeSources.push_back(std::move(source));
  }
}

void BuildMaster::Impl::reconfig() {
  if (shuttingDown) return;
  const std::string path = config.path;
  spdlog::info("reconfig: loading {}", path);
  notifyReloading();
  auto loaded = loadMasterConfig(path, masterConfigKinds());
  std::vector<std::string> problems;
  std::shared_ptr<TlsContext> tls;
  for (const auto& e : loaded.errors) problems.push_back(e.toString());
  if (loaded.ok()) {
    const auto& n = *loaded.config;
    if (n.master.slavePort != config.master.slavePort || n.master.host != config.master.host)
      problems.push_back(path + ": master.slave_port/host cannot change on reconfig; restart the master");
    if (n.master.database != config.master.database)
      problems.push_back(path + ": master.database cannot change on reconfig; restart the master");
    if (n.master.webPort != config.master.webPort || n.master.webHost != config.master.webHost ||
        n.master.webMaxBody != config.master.webMaxBody ||
        n.master.webMaxConnections != config.master.webMaxConnections)
      problems.push_back(path + ": master.web_port/web_host/web_max_body/web_max_connections cannot change on reconfig; restart the master");
    if (n.master.tls != config.master.tls)
      problems.push_back(path + ": master.tls cannot change on reconfig; restart the master");
    try {
      tls = MasterPort::makeTls(dir, n.master);  // re-reads the files: certificate rotation
    } catch (const std::exception& e) {
      problems.push_back(path + ": " + e.what());
    }
    for (const auto& s : n.schedulers)
      if (auto problem = SchedulerSet::check(s); !problem.empty()) problems.push_back(path + ": " + problem);
  }
  if (!problems.empty()) {
    for (const auto& p : problems) spdlog::error("reconfig: {}", p);
    spdlog::error("reconfig failed: {} error(s); the running config stays in effect", problems.size());
    notifyReloaded("reconfig failed; the running config stays in effect");
    return;
  }
  const std::string changes = describeChanges(diffConfigs(config, *loaded.config));
  config = std::move(*loaded.config);
  config.path = path;
  port->setTls(std::move(tls));
  configureComponents();
  startPollers();
  distributor->wake();
  spdlog::info("reconfig complete: {}", changes);
  notifyReloaded("reconfig complete: " + changes);
}

// The shutdown sequence. Each wait has a limit.
void BuildMaster::Impl::shutdown(bool clean) {
  if (shuttingDown) {
    if (!clean) {
      spdlog::warn("shutdown: second request; interrupting running builds now");
      distributor->stopAll(Result::Retry, "master shutting down");
    }
    return;
  }
  shuttingDown = true;
  notifyStopping(clean ? "clean shutdown: waiting for running builds" : "shutting down");
  spdlog::info("shutdown ({}): 1. stop accepting connections", clean ? "clean" : "interrupting builds");
  port->stopAccepting();
  if (web) web->stopAccepting();
  spdlog::info("shutdown: 2. stop starting builds; stop schedulers and change sources");
  distributor->stopStartingBuilds();
  for (auto& s : changeSources) s->stop();
  // Released schedulers go on on another master, from their stored state.
  if (schedulers->stopAll() > 0) cluster->announceSchedulersReleased();
  if (distributor->runningCount() == 0) {
    spdlog::info("shutdown: 3. no running builds to wait for");
    finishShutdown();
    return;
  }
  distributor->onIdle = [this] { post([this] { finishShutdown(); }); };
  shutdownTimer = clock.makeTimer();
  if (clean) {
    spdlog::info("shutdown: 3. waiting for {} running build(s) to finish", distributor->runningCount());
    shutdownTimer->start(std::chrono::duration_cast<std::chrono::milliseconds>(kCleanShutdownLimit),
                         [this] { distributor->stopAll(Result::Retry, "clean shutdown took too long"); });
  } else {
    spdlog::info("shutdown: 3. interrupting {} running build(s); they will be retried",
                 distributor->runningCount());
    distributor->stopAll(Result::Retry, "master shutting down");
    shutdownTimer->start(kInterruptLimit, [this] {
      spdlog::warn("shutdown: builds did not stop within {} s; closing slave connections",
                   kInterruptLimit.count());
      slaves->disconnectAll("shutting_down", "the master is shutting down");
    });
  }
}

void BuildMaster::Impl::finishShutdown() {
  if (shutdownFinished) return;
  shutdownFinished = true;
  if (shutdownTimer) shutdownTimer->cancel();
  spdlog::info("shutdown: 4. flush: results are committed (a write a full disk refused is tried once "
               "more); this master is recorded as stopped");
  // A write that waits for room is tried once more, never waited for.
  storage->flushOnce();
  retention->stop();
  if (watch) watch->stop();
  identity->stop();
  spdlog::info("shutdown: 4b. reporters send what they queued (at most {} s)", kReporterDrainLimit.count());
  finishReporters();
  spdlog::info("shutdown: 5. close slave and client connections");
  slaves->disconnectAll("shutting_down", "the master is shutting down");
  port->closeClients("the master is shutting down");
  if (web) web->closeAll();
  // Give the Error frames a moment to go out, then stop the loop.
  auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(200));
  t->async_wait([this, t](const boost::system::error_code&) {
    if (const auto traffic = db->traffic(); traffic.statements > 0)
      spdlog::info("database: {} statement(s), {} of them sent ahead, in {} round trip(s)", traffic.statements,
                   traffic.sentAhead, traffic.roundTrips);
    spdlog::info("shutdown complete");
    io.stop();
  });
}

void BuildMaster::Impl::waitSignals() {
  signals->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reconfig();
    } else if (sig == SIGUSR1) {
      shutdown(true);
    } else {
      shutdown(false);
    }
    waitSignals();
  });
}

int BuildMaster::run(std::function<void()> onReady,
                     std::function<void(const std::string&)> onFailed) {
  auto& im = *impl_;
  try {
    const std::string dbPath = databasePath(im.dir, im.config.master.database);
    useDatabasePassword(im.dir, im.config.master);
    im.db = db::openMasterDatabase(dbPath, im.dir, db::OpenPurpose::Start);
    im.identity = std::make_unique<MasterIdentity>(*im.db, im.clock, im.config.master.name,
                                                   MasterIdentity::intervalFor(im.config.master.deadAfter));
    im.recover();
    im.identity->start();
    // Write, then notify: every component publishes on the one event bus,
    // which holds an event until the transaction that caused it commits,
    // and the components that react to events subscribe to it (the table
    // is in docs/architecture.md).
    im.events = std::make_unique<EventBus>(
        im.clock, [&im](std::function<void()> fn) { im.post(std::move(fn)); },
        [&im](std::function<void()> fn) { im.db->afterCommit(std::move(fn)); });
    im.locks = std::make_unique<LockManager>(im.clock);
    im.slaves = std::make_unique<SlaveRegistry>(*im.db, im.clock, *im.events);
    im.buildsets = std::make_unique<BuildsetService>(*im.db, *im.events);
    im.distributor = std::make_unique<BuildRequestDistributor>(
        *im.db, im.identity->id(), im.clock, *im.slaves,
        [&im](std::function<void()> fn) { im.post(std::move(fn)); }, *im.buildsets);
    im.distributor->setLocks(im.locks.get());
    im.artifacts = std::make_unique<ArtifactStore>(im.dir, *im.db);
    im.distributor->setArtifacts(im.artifacts.get());
    im.retention = std::make_unique<RetentionJanitor>(*im.db, *im.artifacts, im.clock, im.identity->id());
    // Writes refused for a full disk wait here; the heartbeat is the probe
    // that sees room return, and then requests may start again.
    im.storage = std::make_unique<PendingWrites>(
        im.clock,
        [&im] {
          im.db->masterHeartbeat(im.identity->id(),
                                 std::chrono::duration_cast<std::chrono::seconds>(
                                     im.clock.wallNow().time_since_epoch())
                                     .count());
        },
        [&im] { im.distributor->wake(); });
    im.distributor->setStorage(im.storage.get());
    im.bus = std::make_unique<ChangeBus>(*im.db, *im.events);
    im.sourceServices.reset(new ChangeSourceServices{
        im.dir, *im.db, *im.bus, im.clock,
        [&im](std::function<void()> work) { asio::post(im.worker, std::move(work)); },
        [&im](std::function<void()> fn) { im.post(std::move(fn)); }, nullptr});
    im.schedulers = std::make_unique<SchedulerSet>(SchedulerContext{*im.db, im.clock, *im.buildsets, im.dir, &im.io}, *im.bus);
    im.distributor->setSchedulers(im.schedulers.get());
    // Several masters on one database: schedulers with timers or held
    // changes run on one master each (claimed in the database), and what
    // one master commits reaches the others (docs/multimaster.md).
    if (im.db->isShared()) im.schedulers->shareWithOtherMasters(im.identity->id());
    im.cluster = std::make_unique<ClusterEvents>(
        *im.db, im.identity->id(), *im.events, *im.buildsets, im.io, im.clock,
        std::chrono::duration_cast<std::chrono::milliseconds>(
            MasterIdentity::intervalFor(im.config.master.deadAfter)),
        ClusterEvents::Hooks{[&im] { im.distributor->wake(); },
                             [&im](const db::ChangeRecord& c) { im.bus->deliverFromOtherMaster(c); },
                             [&im] { return im.bus->takesOtherMastersChanges(); },
                             [&im] {
                               if (!im.shuttingDown) im.schedulers->claimUnowned();
                             },
                             [&im] {
                               if (!im.shuttingDown) im.schedulers->catchUpChanges();
                             },
                             [&im] {
                               // A build not started yet may pass canAcquireNow, or
                               // the deadlock rule (a plan was dropped), now.
                               im.locks->retryClaims();
                               im.distributor->wake();
                             },
                             [&im](std::function<void()> fn) { im.post(std::move(fn)); },
                             [&im](std::int64_t request) { return im.distributor->holds(request); }});
    // A scheduler that takes the other masters' changes started or stopped
    // here: they are told whether to announce their changes to this one.
    im.bus->onSubscribersChanged([&im] {
      if (im.cluster) im.cluster->wishesMayHaveChanged();
    });
    if (im.db->isShared()) {
      // Master-scoped locks are held in the database too, so that the
      // masters together never pass a lock's limit (docs/multimaster.md).
      im.sharedLocks = std::make_unique<SharedLocks>(
          *im.db, im.clock, im.identity->id(), [&im](std::function<void()> fn) { im.post(std::move(fn)); },
          [&im] {
            if (im.cluster) im.cluster->announceLocksReleased();
          },
          // A waiting exclusive claim marks again at each heartbeat: three
          // missed marks and it no longer holds counting claims back.
          3 * std::chrono::duration_cast<std::chrono::seconds>(
                  MasterIdentity::intervalFor(im.config.master.deadAfter)));
      im.locks->setClaims(im.sharedLocks.get());
      im.distributor->shareLockPlans(im.sharedLocks.get());
      im.reportClaims = std::make_unique<ReportClaims>(*im.db, im.identity->id(), im.clock);
      im.watch = std::make_unique<MasterWatch>(
          *im.db, im.clock, im.identity->id(), im.config.master.deadAfter,
          MasterIdentity::intervalFor(im.config.master.deadAfter),
          [&im](const std::string&, const TakenOver& t) {
            // The dead master's requests may run here or on any survivor;
            // its schedulers go to whichever claims them first.
            im.distributor->wake();
            if (t.requests) im.cluster->announceRequests();
            if (t.locks) {
              im.locks->retryClaims();  // the distributor is woken just above
              im.cluster->announceLocksReleased();
            }
            if (t.schedulers) {
              if (!im.shuttingDown) im.schedulers->claimUnowned();
              im.cluster->announceSchedulersReleased();
            }
          },
          [] {
            // Its builds were retried elsewhere and its requests may run
            // on another master now: anything this process still wrote
            // about them could run them twice. It stops at once, without
            // writing; restarted, it recovers as any master does.
            spdlog::critical("exiting now: restart this master (a master must not stall for dead_after)");
            spdlog::shutdown();
            std::_Exit(3);
          });
      // Changes no running scheduler was given (accepted while their
      // master was dead, or announced while this master's listening
      // session was down) are caught up on at each heartbeat; a missed
      // bb_lock notification, or a lock release the database refused,
      // costs at most one heartbeat too.
      im.watch->setOnTick([&im] {
        if (!im.shuttingDown) im.schedulers->catchUpChanges();
        im.sharedLocks->retryReleases();
        im.locks->retryClaims();
        im.distributor->wake();  // also for builds the deadlock rule held back
      });
      im.watch->start();
    }
    im.rpc = std::make_unique<RpcHandler>(*im.db, *im.bus, *im.schedulers, *im.buildsets,
                                          [&im]() -> const MasterConfig& { return im.config; });
    im.rpc->setRunningBuilds([&im] { return im.distributor->runningBuilds(); });
    im.rpc->setSlaveRegistry(im.slaves.get());
    im.rpc->setStorage(im.storage.get());
    im.rpc->setRetention([&im] { return im.retention->describe(); });
    im.rpc->setChangeSources([&im] {
      std::vector<const ChangeSource*> out;
      for (const auto& s : im.changeSources) out.push_back(s.get());
      return out;
    });
    im.rpc->setReporters([&im] {
      Json out = Json::array();
      for (const auto& r : im.reporters) out.push_back(r->describe());
      return out;
    });
    im.port = std::make_unique<MasterPort>(im.io, im.clock, *im.slaves, *im.rpc, *im.events,
                                           [&im]() -> const MasterConfig& { return im.config; });
    im.configureComponents();
    im.port->setTls(MasterPort::makeTls(im.dir, im.config.master));
    im.port->listen();
    if (im.config.master.webPort != 0) {
      im.web = std::make_unique<web::WebService>(
          im.io,
          web::WebDeps{*im.db, [&im]() -> const MasterConfig& { return im.config; }, *im.rpc, *im.schedulers,
                       im.slaves.get(), im.locks.get(), *im.events,
                       [&im](const std::string& name) -> WebhookSource* {
                         for (const auto& s : im.changeSources)
                           if (s->config().name == name) return dynamic_cast<WebhookSource*>(s.get());
                         return nullptr;
                       }},
          web::WebService::optionsFrom(im.config.master));
      im.web->setArtifacts(im.artifacts.get());
      im.web->listen();
    }
    im.startPollers();
  } catch (const std::exception& e) {
    onFailed(e.what());
    return 1;
  }
  im.signals = std::make_unique<asio::signal_set>(im.io, SIGHUP, SIGTERM, SIGINT);
  im.signals->add(SIGUSR1);
  im.waitSignals();
  spdlog::info("buildmaster {} started in {} (port {})", im.config.master.name, im.dir, im.port->port());
  onReady();
  im.distributor->wake();  // requests left from before the restart
  for (;;) {
    try {
      im.io.run();
      break;
    } catch (const std::exception& e) {
      // A bug or a database failure in one event must not take the whole
      // master down silently; it is logged and the loop goes on.
      spdlog::critical("unhandled error in the event loop: {}", e.what());
    }
  }
  im.worker.join();
  return 0;
}

}  // namespace bb
