#pragma once
// What the web handlers reach in the master: the database, the live config,
// the RpcHandler (every control method goes through it, as for the
// `buildbot` client), the schedulers, slaves, locks and the event bus. The
// web is an adapter: decode, one call into the core, encode.
#include <functional>

#include "config/master_config.hpp"

namespace bb::db {
class Database;
}

namespace bb {
class ArtifactStore;
class ChangeBus;
class EventBus;
class LockManager;
class RpcHandler;
class SchedulerSet;
class SlaveRegistry;
class WebhookSource;
}  // namespace bb

namespace bb::web {

class Router;
class WebAuth;
struct HttpRequest;

struct WebContext {
  db::Database& db;
  std::function<const MasterConfig&()> config;
  RpcHandler& rpc;
  SchedulerSet& schedulers;
  const SlaveRegistry* slaves = nullptr;
  const LockManager* locks = nullptr;
  EventBus& events;
  WebAuth& auth;
  // The webhook change source named `name`, or nullptr.
  std::function<WebhookSource*(const std::string& name)> webhook;
  // Where artifacts' files are (null: downloads answer 404).
  const ArtifactStore* artifacts = nullptr;

  // Throws HttpError 401/403 when the config requires login for reading
  // (master.web_read_login) and the request's user may not `status`.
  void requireRead(const HttpRequest& req) const;
};

// The route groups (one file each); WebService adds them in this order.
void addReadRoutes(Router& r, WebContext& ctx);      // rest_reads.cpp
void addEntityRoutes(Router& r, WebContext& ctx);    // rest_entities.cpp
void addLogRoutes(Router& r, WebContext& ctx);       // rest_logs.cpp
void addArtifactRoutes(Router& r, WebContext& ctx);  // rest_artifacts.cpp
void addControlRoutes(Router& r, WebContext& ctx);   // rest_control.cpp
void addChangeHook(Router& r, WebContext& ctx);      // change_hook.cpp
void addEventStream(Router& r, WebContext& ctx);     // event_stream.cpp
void addBadges(Router& r, WebContext& ctx);          // badge.cpp
void addLogin(Router& r, WebContext& ctx);           // login.cpp
// Every lock: config, instances with their holders, and who waits
// (rest_entities.cpp; GET /api/v2/locks and the locks page).
Json locksView(WebContext& ctx);
class Pages;
void addPageRoutes(Router& r, WebContext& ctx, Pages& pages);  // page_routes.cpp
struct WebCounters;
void addMetrics(Router& r, WebContext& ctx, const WebCounters& counters);  // metrics.cpp

}  // namespace bb::web

namespace bb {
struct RpcError;
}

namespace bb::web {
struct HttpError;
// An RpcError as an HTTP error: bad_request 400, not_permitted 403,
// not_found 404, rejected 409, anything else 500; details are appended.
HttpError toHttpError(const RpcError& e);
}  // namespace bb::web
