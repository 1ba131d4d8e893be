#include "master/artifacts/retention.hpp"

#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "master/artifacts/artifact_store.hpp"
#include "master/db/database.hpp"

namespace bb {

namespace fs = std::filesystem;

namespace {

constexpr char kStateObject[] = "retention";

std::string retentionMiB(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string retentionDays(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

bool sameRules(const RetentionRules& a, const RetentionRules& b) {
  return a.maxAgeDays == b.maxAgeDays && a.keepBuildsPerBuilder == b.keepBuildsPerBuilder &&
         a.maxTotalBytes == b.maxTotalBytes;
}

Json rulesJson(const RetentionRules& r, bool artifacts) {
  Json out{{"max_age_days", r.maxAgeDays > 0 ? Json(r.maxAgeDays) : Json()},
           {"keep_builds_per_builder", r.keepBuildsPerBuilder > 0 ? Json(r.keepBuildsPerBuilder) : Json()}};
  if (artifacts)
    out["max_total_mb"] = r.maxTotalBytes > 0 ? Json(r.maxTotalBytes / (1024 * 1024)) : Json();
  return out;
}

}  // namespace

Json RetentionRound::toJson() const {
  return Json{{"started_at", startedAt},   {"finished_at", finishedAt},    {"artifacts", artifacts},
              {"artifact_bytes", artifactBytes}, {"log_builds", logBuilds}, {"log_bytes", logBytes},
              {"by_rule", byRule},         {"error", error}};
}

std::string RetentionRound::summary() const {
  std::string out = "removed " + std::to_string(artifacts) + " artifact(s) (" + retentionMiB(artifactBytes) +
                    ") and the logs of " + std::to_string(logBuilds) + " build(s) (" + retentionMiB(logBytes) +
                    " of text) in " + std::to_string(finishedAt - startedAt) + " s";
  std::string rules;
  for (const auto& [rule, n] : byRule) rules += (rules.empty() ? "" : ", ") + rule + ": " + std::to_string(n);
  if (!rules.empty()) out += " (" + rules + ")";
  if (!error.empty()) out += "; stopped early: " + error + " (tried again next round)";
  return out;
}

RetentionJanitor::RetentionJanitor(db::Database& db, ArtifactStore& store, Clock& clock, db::MasterId master)
    : db_(db), store_(store), clock_(clock), master_(master), timer_(clock.makeTimer()) {
  try {
    if (auto st = db_.getState(kStateObject, "last_run:" + std::to_string(master_.value)))
      lastRun_ = *st;
  } catch (const std::exception& e) {
    spdlog::warn("retention: cannot read the last round's record: {}", e.what());
  }
}

RetentionJanitor::~RetentionJanitor() = default;

std::int64_t RetentionJanitor::nowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.wallNow().time_since_epoch()).count();
}

void RetentionJanitor::configure(const RetentionConfig& c) {
  const bool changed = !configured_ || !sameRules(c.artifacts, rules_.artifacts) ||
                       !sameRules(c.logs, rules_.logs) || c.interval != rules_.interval;
  rules_ = c;
  configured_ = true;
  if (!rules_.any()) {
    if (running_) {
      round_.error = "retention turned off";
      finishRound();
    }
    timer_->cancel();
    nextRunAt_ = 0;
    return;
  }
  if (!changed) return;
  // New rules apply from the first phase, also to a round in progress.
  if (running_) phase_ = Phase::ArtifactsAge;
  nextRunAt_ = nowSeconds();
  timer_->start(std::chrono::milliseconds(0), [this] { onTimer(); });
}

void RetentionJanitor::stop() {
  timer_->cancel();
  if (running_) {
    round_.error = "the master is stopping";
    finishRound();
  }
}

void RetentionJanitor::beginRound() {
  round_ = RetentionRound{};
  round_.startedAt = nowSeconds();
  running_ = true;
  phase_ = Phase::ArtifactsAge;
  builders_.clear();
  builderIndex_ = 0;
}

bool RetentionJanitor::advance() {
  try {
    if (step()) return true;
  } catch (const std::exception& e) {
    round_.error = e.what();
  }
  finishRound();
  return false;
}

void RetentionJanitor::onTimer() {
  if (!running_) beginRound();
  if (advance()) {
    // The rest of the round after whatever else the loop has to do.
    timer_->start(std::chrono::milliseconds(0), [this] { onTimer(); });
    return;
  }
  nextRunAt_ = nowSeconds() + std::chrono::duration_cast<std::chrono::seconds>(rules_.interval).count();
  timer_->start(std::chrono::duration_cast<std::chrono::milliseconds>(rules_.interval), [this] { onTimer(); });
}

RetentionRound RetentionJanitor::runRound() {
  beginRound();
  while (advance()) {
  }
  return round_;
}

void RetentionJanitor::finishRound() {
  running_ = false;
  phase_ = Phase::Done;
  round_.finishedAt = nowSeconds();
  if (!round_.error.empty()) spdlog::error("retention: {}", round_.summary());
  else if (round_.removedAny()) spdlog::info("retention: {}", round_.summary());
  else spdlog::debug("retention: nothing to remove");
  lastRun_ = round_.toJson();
  try {
    db_.setState(kStateObject, "last_run:" + std::to_string(master_.value), lastRun_);
  } catch (const std::exception& e) {
    spdlog::warn("retention: cannot record the round: {}", e.what());
  }
}

void RetentionJanitor::nextPhase() {
  phase_ = static_cast<Phase>(static_cast<int>(phase_) + 1);
  builderIndex_ = 0;
  const bool logs = (phase_ == Phase::LogsAge && rules_.logs.maxAgeDays > 0) ||
                    (phase_ == Phase::LogsCount && rules_.logs.keepBuildsPerBuilder > 0);
  builders_ = logs ? db_.buildersWithKeptLogs() : std::vector<std::string>{};
}

std::string RetentionJanitor::rule(const char* key) const {
  const std::string k = key;
  if (k == "artifacts.max_age_days") return k + "=" + retentionDays(rules_.artifacts.maxAgeDays);
  if (k == "artifacts.keep_builds_per_builder") return k + "=" + std::to_string(rules_.artifacts.keepBuildsPerBuilder);
  if (k == "artifacts.max_total_mb") return k + "=" + std::to_string(rules_.artifacts.maxTotalBytes / (1024 * 1024));
  if (k == "logs.max_age_days") return k + "=" + retentionDays(rules_.logs.maxAgeDays);
  return k + "=" + std::to_string(rules_.logs.keepBuildsPerBuilder);
}

bool RetentionJanitor::step() {
  const std::int64_t now = nowSeconds();
  const auto full = static_cast<std::size_t>(kBatch);
  auto horizon = [now](double days) { return now - static_cast<std::int64_t>(days * 86400.0); };
  switch (phase_) {
    case Phase::ArtifactsAge: {
      if (rules_.artifacts.maxAgeDays <= 0) break;
      const auto batch = db_.artifactsCreatedBefore(horizon(rules_.artifacts.maxAgeDays), master_, kBatch);
      const int done = removeArtifacts(batch, rule("artifacts.max_age_days"));
      if (batch.size() == full && static_cast<std::size_t>(done) == full) return true;
      break;
    }
    case Phase::ArtifactsCount: {
      if (rules_.artifacts.keepBuildsPerBuilder <= 0) break;
      const auto batch = db_.artifactsBeyondNewestBuilds(rules_.artifacts.keepBuildsPerBuilder, master_, kBatch);
      const int done = removeArtifacts(batch, rule("artifacts.keep_builds_per_builder"));
      if (batch.size() == full && static_cast<std::size_t>(done) == full) return true;
      break;
    }
    case Phase::ArtifactsSize: {
      if (rules_.artifacts.maxTotalBytes <= 0) break;
      const std::int64_t over = db_.keptArtifactBytes(master_) - rules_.artifacts.maxTotalBytes;
      if (over <= 0) break;
      const auto batch = db_.oldestArtifacts(over, master_, kBatch);
      const int done = removeArtifacts(batch, rule("artifacts.max_total_mb"));
      if (!batch.empty() && static_cast<std::size_t>(done) == batch.size()) return true;
      break;
    }
    case Phase::LogsAge:
    case Phase::LogsCount: {
      if (builderIndex_ >= builders_.size()) break;
      const std::string& builder = builders_[builderIndex_];
      const bool age = phase_ == Phase::LogsAge;
      const auto ids = age ? db_.buildsWithLogsFinishedBefore(builder, horizon(rules_.logs.maxAgeDays), kBatch)
                           : db_.buildsWithLogsBeyondNewest(builder, rules_.logs.keepBuildsPerBuilder, kBatch);
      const int done = removeLogs(ids, rule(age ? "logs.max_age_days" : "logs.keep_builds_per_builder"));
      if (ids.size() < full || static_cast<std::size_t>(done) < ids.size()) ++builderIndex_;
      return true;
    }
    case Phase::Done:
      return false;
  }
  nextPhase();
  return phase_ != Phase::Done;
}

int RetentionJanitor::removeArtifacts(const std::vector<db::ArtifactRecord>& batch, const std::string& rule) {
  std::vector<const db::ArtifactRecord*> gone;
  for (const auto& a : batch) {
    const fs::path path = store_.pathOf(a);
    std::error_code ec;
    fs::remove(path, ec);  // a file already gone is no error
    if (ec) {
      round_.error = "cannot delete " + path.string() + ": " + ec.message();
      spdlog::error("retention: {}; it stays until a later round", round_.error);
      break;
    }
    gone.push_back(&a);
    fs::remove(path.parent_path(), ec);  // the build's directory, once it is empty
  }
  if (gone.empty()) return 0;
  const std::int64_t now = nowSeconds();
  db_.transaction([&] {
    for (const auto* a : gone) db_.markArtifactRemoved(a->id, now, rule);
  });
  for (const auto* a : gone) {
    ++round_.artifacts;
    round_.artifactBytes += a->size;
    ++round_.byRule[rule];
  }
  return static_cast<int>(gone.size());
}

int RetentionJanitor::removeLogs(const std::vector<std::int64_t>& builds, const std::string& rule) {
  if (builds.empty()) return 0;
  const std::int64_t now = nowSeconds();
  int done = 0;
  std::int64_t bytes = 0;
  db_.transaction([&] {
    done = 0;
    bytes = 0;
    for (std::int64_t id : builds) {
      const std::int64_t n = db_.removeBuildLogs(id, now, rule);
      if (n < 0) continue;
      ++done;
      bytes += n;
    }
  });
  round_.logBuilds += done;
  round_.logBytes += bytes;
  if (done) round_.byRule[rule] += done;
  return done;
}

Json RetentionJanitor::describe() const {
  return Json{{"enabled", rules_.any()},
              {"interval_minutes", rules_.interval.count()},
              {"rules", Json{{"artifacts", rulesJson(rules_.artifacts, true)}, {"logs", rulesJson(rules_.logs, false)}}},
              {"running", running_},
              {"last_run", lastRun_},
              {"next_run_at", nextRunAt_ ? Json(nextRunAt_) : Json()}};
}

}  // namespace bb
