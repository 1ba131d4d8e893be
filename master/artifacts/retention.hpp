#pragma once
// The retention janitor: deletes artifacts and logs past the horizons of
// the config's `retention:` section (docs/configuration.md) on a timer on
// the master's loop, and once at start and after a reconfig that changes
// them. Rules, in this order:
//   artifacts.max_age_days, artifacts.keep_builds_per_builder,
//   artifacts.max_total_mb (oldest first until under the cap),
//   logs.max_age_days, logs.keep_builds_per_builder.
// Only finished builds' artifacts and logs are touched, and only the
// artifacts of this master's builds (their files are in its directory).
// An artifact's file is deleted and its row marked (when, which rule); a
// build's log text is deleted, its log rows stay and the build is marked,
// so status says what was removed and why. Build rows, steps and the
// statistics are untouched.
//
// A round works in batches of at most kBatch items, each its own short
// transaction, and yields to the loop between batches, so it never holds
// the loop for long. A failure (disk, database) ends the round with the
// error logged and shown in status; the next round tries again. Files are
// deleted before their rows are marked: a mark that fails leaves a row the
// next round finds again (its file already gone is not an error).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "common/message.hpp"
#include "config/master_config.hpp"
#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class ArtifactStore;

// What one round removed.
struct RetentionRound {
  std::int64_t startedAt = 0, finishedAt = 0;  // UNIX seconds; finishedAt 0: still running
  int artifacts = 0;
  std::int64_t artifactBytes = 0;
  int logBuilds = 0;             // builds whose logs' text was deleted
  std::int64_t logBytes = 0;     // uncompressed bytes of that text
  std::map<std::string, int> byRule;  // "artifacts.max_age_days=30" -> items
  std::string error;             // why the round stopped early ("" if it did not)

  bool removedAny() const { return artifacts > 0 || logBuilds > 0; }
  // {started_at, finished_at, artifacts, artifact_bytes, log_builds,
  //  log_bytes, by_rule: {RULE: N}, error}
  Json toJson() const;
  // One line for the master's log.
  std::string summary() const;
};

class RetentionJanitor {
 public:
  // Items per batch (artifacts, or builds whose logs go).
  static constexpr int kBatch = 50;

  RetentionJanitor(db::Database& db, ArtifactStore& store, Clock& clock, db::MasterId master);
  ~RetentionJanitor();
  RetentionJanitor(const RetentionJanitor&) = delete;
  RetentionJanitor& operator=(const RetentionJanitor&) = delete;

  // Takes the rules. The first call, and one that changes them, starts a
  // round now (on the loop); then one every c.interval. No rules: no rounds.
  void configure(const RetentionConfig& c);
  // Cancels the timer; a round in progress stops after its current batch.
  void stop();
  // Runs one whole round now, batch after batch (tests and tools).
  RetentionRound runRound();
  // {enabled, interval_minutes, rules: {...}, running, last_run (null
  // before the first), next_run_at}
  Json describe() const;

 private:
  enum class Phase { ArtifactsAge, ArtifactsCount, ArtifactsSize, LogsAge, LogsCount, Done };

  void beginRound();
  // Does one batch of the round; false once the round is over.
  bool step();
  // step(), and on its end or failure finishRound(); false once over.
  bool advance();
  void onTimer();
  void finishRound();
  void nextPhase();
  // Deletes the files of `batch`, then marks their rows, under `rule`.
  // Returns how many were removed (fewer when a file cannot be deleted).
  int removeArtifacts(const std::vector<db::ArtifactRecord>& batch, const std::string& rule);
  int removeLogs(const std::vector<std::int64_t>& builds, const std::string& rule);
  std::string rule(const char* key) const;
  std::int64_t nowSeconds() const;

  db::Database& db_;
  ArtifactStore& store_;
  Clock& clock_;
  db::MasterId master_;
  RetentionConfig rules_;
  bool configured_ = false;
  std::unique_ptr<Timer> timer_;
  std::int64_t nextRunAt_ = 0;

  // The round in progress.
  bool running_ = false;
  Phase phase_ = Phase::Done;
  std::vector<std::string> builders_;  // for the log phases
  std::size_t builderIndex_ = 0;
  RetentionRound round_;
  Json lastRun_;  // the last round's toJson() (null before any), kept in object_state
};

}  // namespace bb
