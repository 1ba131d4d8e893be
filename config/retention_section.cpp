// The `retention:` section: the horizons of the master's retention janitor
// (master/artifacts/retention.hpp). Every limit is optional; none means
// the janitor deletes nothing.
#include <cmath>
#include <string>

#include "config/yaml_util.hpp"

namespace bb::cfg {

namespace {

// A number of days > 0 (fractions allowed, e.g. 0.5); nullopt if absent or bad.
std::optional<double> retentionDays(const MapReader& r, std::string_view key) {
  YAML::Node v = r.value(key);
  if (!v.IsDefined()) return std::nullopt;
  double d = 0;
  if (!v.IsScalar() || !YAML::convert<double>::decode(v, d) || !std::isfinite(d) || d <= 0 || d > 100000) {
    r.error(r.markOf(key), std::string(key) + " must be a number of days above 0 and at most 100000 "
                                              "(fractions allowed, e.g. 0.5), got " + describe(v));
    return std::nullopt;
  }
  return d;
}

void parseRetentionRules(const MapReader& parent, std::string_view key, bool artifacts, RetentionRules& out,
                         ErrorSink& sink) {
  if (!parent.has(key)) return;
  MapReader r(parent.value(key), "retention." + std::string(key), sink, parent.markOf(key));
  if (!r.isMap()) return;
  if (artifacts) r.allowKeys({"max_age_days", "keep_builds_per_builder", "max_total_mb"});
  else r.allowKeys({"max_age_days", "keep_builds_per_builder"});
  if (auto d = retentionDays(r, "max_age_days")) out.maxAgeDays = *d;
  if (auto n = r.integer("keep_builds_per_builder", 1, 100000000)) out.keepBuildsPerBuilder = static_cast<int>(*n);
  if (!artifacts) return;
  if (auto mb = r.integer("max_total_mb", 1, std::int64_t{1} << 40)) out.maxTotalBytes = *mb * 1024 * 1024;
}

}  // namespace

void parseRetention(const MapReader& top, MasterParse& p) {
  if (!top.has("retention")) return;
  MapReader r(top.value("retention"), "retention", p.sink, top.markOf("retention"));
  if (!r.isMap()) return;
  r.allowKeys({"artifacts", "logs", "interval_minutes"});
  RetentionConfig& c = p.config.retention;
  if (auto m = r.integer("interval_minutes", 1, 10080)) c.interval = std::chrono::minutes(*m);
  parseRetentionRules(r, "artifacts", true, c.artifacts, p.sink);
  parseRetentionRules(r, "logs", false, c.logs, p.sink);
}

}  // namespace bb::cfg
