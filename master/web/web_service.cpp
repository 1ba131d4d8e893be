#include "master/web/web_service.hpp"

#include <spdlog/spdlog.h>

#include "master/db/db_error.hpp"
#include "master/events/event_bus.hpp"
#include "master/status/rpc_handler.hpp"

namespace bb::web {

void WebCounters::Histogram::observe(double v) {
  ++count;
  sum += v;
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (v <= bounds[i]) {
      ++counts[i];
      return;
    }
}

void WebContext::requireRead(const HttpRequest& req) const {
  if (!config().master.webReadLogin) return;
  auth.require(auth.authenticate(req), "status");
}

WebService::WebService(boost::asio::io_context& io, WebDeps deps, HttpServerOptions opts)
    : deps_(std::move(deps)),
      auth_(deps_.config),
      ctx_{deps_.db, deps_.config, deps_.rpc, deps_.schedulers, deps_.slaves, deps_.locks, deps_.events, auth_,
           deps_.webhook},
      pages_(deps_.db, deps_.config,
             [rpc = &deps_.rpc](const std::string& method, const Json& params) { return rpc->read(method, params); }),
      server_(io, std::move(opts), [this](HttpRequest& req) { return handle(req); }) {
  addReadRoutes(router_, ctx_);
  addEntityRoutes(router_, ctx_);
  addLogRoutes(router_, ctx_);
  addArtifactRoutes(router_, ctx_);
  addControlRoutes(router_, ctx_);
  addChangeHook(router_, ctx_);
  addEventStream(router_, ctx_);
  addMetrics(router_, ctx_, counters_);
  addBadges(router_, ctx_);
  addLogin(router_, ctx_);
  addPageRoutes(router_, ctx_, pages_);
  Subscriber s;
  s.name = "web metrics";
  s.filter.types = {EventType::BuildStarted, EventType::BuildFinished};
  s.deliver = [this](const Event& e) {
    if (e.type == EventType::BuildStarted) {
      ++counters_.running;
    } else {
      if (counters_.running > 0) --counters_.running;
      ++counters_.buildsByResult[e.data.value("result", std::string("unknown"))];
      counters_.buildSeconds.observe(e.data.value("duration_seconds", 0.0));
      if (const double w = e.data.value("lock_wait_seconds", 0.0); w > 0) counters_.lockWaitSeconds.observe(w);
    }
    return true;
  };
  countersSub_ = deps_.events.subscribe(std::move(s)).id;
}

WebService::~WebService() { deps_.events.unsubscribe(countersSub_); }

void WebService::listen() {
  server_.listen();
  const auto& m = deps_.config().master;
  spdlog::info("web: serving on http://{}:{}/ (links use {})", m.webHost.empty() ? m.host : m.webHost, server_.port(),
               deps_.config().master.url);
}

HttpResponse WebService::handle(HttpRequest& req) {
  try {
    return router_.dispatch(req);
  } catch (const DbError& e) {
    // The database server down or restarting, or its disk full: nothing of
    // the request was stored, and asking again later may succeed. Any other
    // failure is the server's 500.
    if (e.kind() != DbErrorKind::ConnectionLost && e.kind() != DbErrorKind::DiskFull) throw;
    spdlog::error("web: {} {} from {}: the database is unavailable: {}", req.method, req.target, req.remote,
                  e.what());
    HttpResponse res = errorResponse(
        req, 503, std::string("the database is unavailable, nothing was stored; try again later: ") + e.what());
    res.headers.emplace_back("Retry-After", "5");
    res.close = true;
    return res;
  }
}

HttpServerOptions WebService::optionsFrom(const MasterSection& m) {
  HttpServerOptions o;
  o.host = m.webHost.empty() ? m.host : m.webHost;
  o.port = m.webPort;
  o.maxBodyBytes = m.webMaxBody;
  o.maxConnections = m.webMaxConnections;
  return o;
}

}  // namespace bb::web
