// Deleting old history: builds with their steps and logs, and buildsets
// with no build left. Steps, logs and log chunks go by ON DELETE CASCADE;
// log files (log_files.hpp) are deleted once their batch has committed.
// Deleted builds are summarised first (build_stats_weekly, stats_db.cpp).
#include <unordered_set>

#include "master/db/database.hpp"
#include "master/db/engine.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

CleanupCounts Database::deleteHistoryBefore(std::int64_t horizon, int batch) {
  static constexpr char kSteps[] = "SELECT count(*) FROM steps";
  static constexpr char kLogs[] = "SELECT count(*), coalesce(sum(bytes), 0) FROM logs";
  static constexpr char kChunks[] = "SELECT count(*) FROM log_chunks";
  // The newest build of each builder stays: the next number is max + 1.
  static constexpr char kNewest[] =
      "SELECT b.id FROM builds b JOIN (SELECT builder, max(number) AS n FROM builds"
      " GROUP BY builder) m ON b.builder = m.builder AND b.number = m.n";
  static constexpr char kOldBuilds[] =
      "SELECT id FROM builds WHERE finished = 1 AND finished_at < ?1 AND id > ?2"
      " ORDER BY id LIMIT ?3";
  static constexpr char kDeleteBuild[] = "DELETE FROM builds WHERE id = ?1";
  static constexpr char kOldBuildsets[] =
      "SELECT id FROM buildsets WHERE complete = 1 AND complete_at < ?1 AND id > ?2"
      " ORDER BY id LIMIT ?3";
  static constexpr char kDeleteBuildset[] =
      "DELETE FROM buildsets WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM buildrequests r"
      " JOIN builds b ON b.request_id = r.id WHERE r.buildset_id = ?1)";
  if (batch < 1) batch = 1;
  // Steps, logs and chunks go by cascade: count them as differences.
  auto totals = [this] {
    CleanupCounts c;
    Statement steps = stmt(kSteps);
    steps.requireRow();
    c.steps = steps.getInt(0);
    Statement logs = stmt(kLogs);
    logs.requireRow();
    c.logs = logs.getInt(0);
    c.logBytes = logs.getInt(1);
    Statement chunks = stmt(kChunks);
    chunks.requireRow();
    c.logChunks = chunks.getInt(0);
    return c;
  };
  const CleanupCounts before = totals();
  std::unordered_set<std::int64_t> newest;
  {
    Statement s = stmt(kNewest);
    while (s.step()) newest.insert(s.getInt(0));
  }
  // Walks the ids `select` gives (older than the horizon, above the last
  // batch) upwards, deleting each batch with `del` in one transaction;
  // ids in `keep` stay. With `summarise`, the batch's builds go into the
  // weekly statistics first, in the same transaction (summarised exactly
  // once, or not deleted). Returns the rows deleted.
  auto deleteInBatches = [&](const char* select, const char* del,
                             const std::unordered_set<std::int64_t>& keep, bool summarise) {
    std::int64_t deleted = 0;
    for (std::int64_t after = 0;;) {
      std::vector<std::int64_t> ids;
      {
        Statement s = stmt(select);
        s.bind(1, horizon).bind(2, after).bind(3, static_cast<std::int64_t>(batch));
        while (s.step()) ids.push_back(s.getInt(0));
      }
      if (ids.empty()) return deleted;
      after = ids.back();
      transaction([&] {
        if (summarise) {
          std::vector<std::int64_t> gone;
          for (std::int64_t id : ids)
            if (!keep.count(id)) gone.push_back(id);
          summariseBuilds(gone);
          removeLogFilesOfBuilds(gone);
        }
        for (std::int64_t id : ids) {
          if (keep.count(id)) continue;
          Statement d = stmt(del);
          d.bind(1, id).run();
          deleted += d.changes();
        }
      });
    }
  };
  CleanupCounts out;
  out.builds = deleteInBatches(kOldBuilds, kDeleteBuild, newest, true);
  // Buildsets whose builds are all gone (or that never had one).
  out.buildsets = deleteInBatches(kOldBuildsets, kDeleteBuildset, {}, false);
  const CleanupCounts left = totals();
  out.steps = before.steps - left.steps;
  out.logs = before.logs - left.logs;
  out.logChunks = before.logChunks - left.logChunks;
  out.logBytes = before.logBytes - left.logBytes;
  return out;
}

void Database::compact() {
  const Dialect& d = engine_->dialect();
  execScript(d.compact, "compacting the database (VACUUM)");
  if (*d.truncateLog != '\0') execScript(d.truncateLog, "truncating the write-ahead log");
}

}  // namespace bb::db
