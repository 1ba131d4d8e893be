// GET /metrics: Prometheus text format. Builds by result count what this
// master finished since it started (from the event bus); the queue and
// slave gauges are read when scraped.
#include <sstream>

#include "master/db/database.hpp"
#include "master/slaves/slave_registry.hpp"
#include "master/status/rpc_handler.hpp"
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
    auto histogram = [&out](const char* name, const char* help, const std::vector<double>& bounds,
                            const std::vector<std::uint64_t>& counts, std::uint64_t count, double sum) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " histogram\n";
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += counts[i];
        std::ostringstream le;
        le << bounds[i];
        out += std::string(name) + "_bucket{le=\"" + le.str() + "\"} " + std::to_string(cumulative) + "\n";
      }
      out += std::string(name) + "_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
      std::ostringstream s;
      s << sum;
      out += std::string(name) + "_sum " + s.str() + "\n" + name + "_count " + std::to_string(count) + "\n";
    };
    histogram("buildmaster_build_duration_seconds", "How long builds this master finished took, start to end.",
              counters.buildSeconds.bounds, counters.buildSeconds.counts, counters.buildSeconds.count,
              counters.buildSeconds.sum);
    histogram("buildmaster_lock_wait_seconds", "How long builds that waited for locks waited in all.",
              counters.lockWaitSeconds.bounds, counters.lockWaitSeconds.counts, counters.lockWaitSeconds.count,
              counters.lockWaitSeconds.sum);
    const auto& commits = ctx.db.commitStats();
    histogram("buildmaster_db_commit_seconds", "How long the database took to commit each transaction.",
              std::vector<double>(commits.kBounds.begin(), commits.kBounds.end()),
              std::vector<std::uint64_t>(commits.buckets.begin(), commits.buckets.end()), commits.count,
              commits.seconds);
    if (const auto traffic = ctx.db.traffic(); traffic.statements > 0) {
      // Only on a database server (PostgreSQL): what its connection cost.
      auto counter = [&out](const char* name, const char* help, std::uint64_t v) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
               std::to_string(v) + "\n";
      };
      counter("buildmaster_db_statements_total", "Statements this master ran on the database server.",
              traffic.statements);
      counter("buildmaster_db_statements_sent_ahead_total",
              "Of those, statements sent ahead in a transaction without waiting for their answer.",
              traffic.sentAhead);
      counter("buildmaster_db_round_trips_total",
              "Times this master waited for the database server's answer (one network round trip each).",
              traffic.roundTrips);
    }
    // Each reporter's deliveries (mail, commit status, HTTP push...).
    const Json reporters = ctx.rpc.reporters();
    auto label = [](const Json& r) {
      auto esc = [](std::string v) {
        std::string o;
        for (char c : v) o += (c == '\\' || c == '"') ? std::string("\\") + c : (c == '\n' ? std::string("\\n") : std::string(1, c));
        return o;
      };
      return "reporter=\"" + esc(r.value("name", "")) + "\",type=\"" + esc(r.value("type", "")) + "\"";
    };
    out += "# HELP buildmaster_reporter_deliveries_total What each reporter delivered, by outcome (sent, "
           "failed: refused for good, dropped: queue full or shut down).\n";
    out += "# TYPE buildmaster_reporter_deliveries_total counter\n";
    for (const auto& r : reporters)
      for (const char* k : {"sent", "failed", "dropped"})
        out += "buildmaster_reporter_deliveries_total{" + label(r) + ",outcome=\"" + k + "\"} " +
               std::to_string(r.value(k, std::uint64_t{0})) + "\n";
    out += "# HELP buildmaster_reporter_retries_total Attempts a reporter made again after a temporary failure.\n";
    out += "# TYPE buildmaster_reporter_retries_total counter\n";
    for (const auto& r : reporters)
      out += "buildmaster_reporter_retries_total{" + label(r) + "} " +
             std::to_string(r.value("retries", std::uint64_t{0})) + "\n";
    out += "# HELP buildmaster_reporter_queued Items waiting in a reporter's queue.\n";
    out += "# TYPE buildmaster_reporter_queued gauge\n";
    for (const auto& r : reporters)
      out += "buildmaster_reporter_queued{" + label(r) + "} " +
             std::to_string(r.value("queued", std::uint64_t{0})) + "\n";
    HttpResponse res = textResponse(std::move(out));
    res.contentType = "text/plain; version=0.0.4; charset=utf-8";
    return res;
  });
}

}  // namespace bb::web
