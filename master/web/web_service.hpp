#pragma once
// The master's web server: the HTTP server on master.web_port, the route
// table (REST API, control, change hook, events, metrics, the pages),
// authentication and the counters /metrics shows.
// Built by BuildMaster when web_port is set; runs on the master's loop.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "master/web/http_server.hpp"
#include "master/web/pages/pages.hpp"
#include "master/web/router.hpp"
#include "master/web/web_auth.hpp"
#include "master/web/web_context.hpp"

namespace bb::web {

// What /metrics counts from the event bus.
struct WebCounters {
  std::map<std::string, std::int64_t> buildsByResult;
  std::int64_t running = 0;
  // A histogram (Prometheus' shape): counts per upper bound, sum, count.
  struct Histogram {
    std::vector<double> bounds;
    std::vector<std::uint64_t> counts;  // one per bound; the rest is +Inf
    std::uint64_t count = 0;
    double sum = 0;
    explicit Histogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size(), 0) {}
    void observe(double v);
  };
  Histogram buildSeconds{{1, 5, 15, 60, 300, 900, 1800, 3600, 7200}};
  Histogram lockWaitSeconds{{0.1, 1, 5, 15, 60, 300, 900, 3600}};  // builds that waited for a lock
};

struct WebDeps {
  db::Database& db;
  std::function<const MasterConfig&()> config;
  RpcHandler& rpc;
  SchedulerSet& schedulers;
  const SlaveRegistry* slaves;
  const LockManager* locks;
  EventBus& events;
  std::function<WebhookSource*(const std::string& name)> webhook;  // may be empty
};

class WebService {
 public:
  WebService(boost::asio::io_context& io, WebDeps deps, HttpServerOptions opts);
  ~WebService();
  // Where artifact downloads read (GET /api/v2/builds/ID/artifacts/NAME).
  void setArtifacts(const ArtifactStore* a) { ctx_.artifacts = a; }

  // Binds (throws std::runtime_error saying what to fix) and serves.
  void listen();
  std::uint16_t port() const { return server_.port(); }
  // Where pages add their routes (before or after listen()).
  Router& router() { return router_; }
  // Shutdown step 1 and step 5.
  void stopAccepting() { server_.stopAccepting(); }
  void closeAll() { server_.closeAll(); }

  // The answer to one request (what the server calls; tests may too).
  HttpResponse handle(HttpRequest& req);

  // The server options master.web_* ask for.
  static HttpServerOptions optionsFrom(const MasterSection& m);

 private:
  WebDeps deps_;
  WebAuth auth_;
  WebContext ctx_;
  WebCounters counters_;
  std::uint64_t countersSub_ = 0;
  Pages pages_;
  Router router_;
  HttpServer server_;
};

}  // namespace bb::web
