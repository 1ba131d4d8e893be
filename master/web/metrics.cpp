// GET /metrics: Prometheus text format. Builds by result count what this
// master finished since it started (from the event bus); the queue and
// slave gauges are read when scraped.
#include "master/db/database.hpp"
#include "master/slaves/slave_registry.hpp"
#include "master/web/rest_common.hpp"
#include "master/web/web_service.hpp"

namespace bb::web {

void addMetrics(Router& r, WebContext& ctx, const WebCounters& counters) {
  r.add("GET", "/metrics", [&ctx, &counters](HttpRequest& req, const PathParams&) {
    ctx.requireRead(req);
    std::string out;
    out += "# HELP buildmaster_builds_finished_total Builds finished by this master since it started, by result.\n";
    out += "# TYPE buildmaster_builds_finished_total counter\n";
    for (int i = 0; i < kResultCount; ++i) {
      const auto res = static_cast<Result>(i);
      const auto it = counters.buildsByResult.find(std::string(toString(res)));
      out += "buildmaster_builds_finished_total{result=\"" + std::string(toString(res)) + "\"} " +
             std::to_string(it == counters.buildsByResult.end() ? 0 : it->second) + "\n";
    }
    out += "# HELP buildmaster_builds_running Builds running now.\n# TYPE buildmaster_builds_running gauge\n";
    out += "buildmaster_builds_running " + std::to_string(counters.running) + "\n";
    out += "# HELP buildmaster_build_requests_pending Build requests waiting for a slave.\n";
    out += "# TYPE buildmaster_build_requests_pending gauge\n";
    out += "buildmaster_build_requests_pending " + std::to_string(ctx.db.pendingRequests().size()) + "\n";
    out += "# HELP buildmaster_slaves_connected Slaves connected now.\n# TYPE buildmaster_slaves_connected gauge\n";
    out += "buildmaster_slaves_connected " + std::to_string(ctx.slaves ? ctx.slaves->connectedCount() : 0) + "\n";
    out += "# HELP buildmaster_slaves_configured Slaves in the config.\n# TYPE buildmaster_slaves_configured gauge\n";
    out += "buildmaster_slaves_configured " + std::to_string(ctx.config().slaves.size()) + "\n";
    HttpResponse res = textResponse(std::move(out));
    res.contentType = "text/plain; version=0.0.4; charset=utf-8";
    return res;
  });
}

}  // namespace bb::web
