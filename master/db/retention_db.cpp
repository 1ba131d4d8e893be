// What the retention janitor (master/artifacts/retention.cpp) selects and
// marks. Every query reads through a partial index of what is still kept
// (schema version 10), so a round costs what is left to look at, not the
// whole history.
#include "master/db/artifact_rows.hpp"
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

// Builds of this master or from before masters had ids.
#define BB_RETENTION_OWN_BUILD(n) "(b.master_id = ?" #n " OR b.master_id IS NULL)"

std::vector<ArtifactRecord> retentionArtifactRows(Statement& s) {
  std::vector<ArtifactRecord> out;
  while (s.step()) out.push_back(readArtifactRow(s));
  return out;
}

std::vector<std::int64_t> retentionIds(Statement& s) {
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.getInt(0));
  return out;
}

}  // namespace

std::vector<ArtifactRecord> Database::artifactsCreatedBefore(std::int64_t horizon, MasterId master, int limit) {
  static constexpr char kOld[] = "SELECT " BB_ARTIFACT_COLUMNS
                                 " FROM artifacts a JOIN builds b ON b.id = a.build_id"
                                 " WHERE a.removed_at = 0 AND a.created_at < ?1 AND b.finished = 1"
                                 " AND " BB_RETENTION_OWN_BUILD(2) " ORDER BY a.created_at, a.id LIMIT ?3";
  Statement s = stmt(kOld);
  s.bind(1, horizon).bind(2, master.value).bind(3, std::int64_t{limit});
  return retentionArtifactRows(s);
}

std::vector<ArtifactRecord> Database::artifactsBeyondNewestBuilds(int keep, MasterId master, int limit) {
  // Ranked among the finished builds that still have a kept artifact, so
  // `keep` builds' artifacts stay however many builds stored none.
  static constexpr char kBeyond[] =
      "SELECT " BB_ARTIFACT_COLUMNS
      " FROM artifacts a JOIN builds b ON b.id = a.build_id"
      " JOIN (SELECT id, ROW_NUMBER() OVER (PARTITION BY builder ORDER BY number DESC) AS r"
      "   FROM builds WHERE finished = 1"
      "   AND id IN (SELECT build_id FROM artifacts WHERE removed_at = 0)) k ON k.id = b.id"
      " WHERE a.removed_at = 0 AND k.r > ?1 AND " BB_RETENTION_OWN_BUILD(2) " ORDER BY a.id LIMIT ?3";
  Statement s = stmt(kBeyond);
  s.bind(1, std::int64_t{keep}).bind(2, master.value).bind(3, std::int64_t{limit});
  return retentionArtifactRows(s);
}

std::int64_t Database::keptArtifactBytes(MasterId master) {
  static constexpr char kSum[] = "SELECT coalesce(sum(a.size), 0) FROM artifacts a JOIN builds b ON b.id = a.build_id"
                                 " WHERE a.removed_at = 0 AND " BB_RETENTION_OWN_BUILD(1);
  Statement s = stmt(kSum);
  s.bind(1, master.value);
  s.requireRow();
  return s.getInt(0);
}

std::vector<ArtifactRecord> Database::oldestArtifacts(std::int64_t bytes, MasterId master, int limit) {
  static constexpr char kOldest[] = "SELECT " BB_ARTIFACT_COLUMNS
                                    " FROM artifacts a JOIN builds b ON b.id = a.build_id"
                                    " WHERE a.removed_at = 0 AND b.finished = 1"
                                    " AND " BB_RETENTION_OWN_BUILD(1) " ORDER BY a.created_at, a.id LIMIT ?2";
  Statement s = stmt(kOldest);
  s.bind(1, master.value).bind(2, std::int64_t{limit});
  // Rows are read one by one: the statement stops once there are enough.
  std::vector<ArtifactRecord> out;
  std::int64_t sum = 0;
  while (sum < bytes && s.step()) {
    out.push_back(readArtifactRow(s));
    sum += out.back().size;
  }
  return out;
}

void Database::markArtifactRemoved(std::int64_t artifactId, std::int64_t now, const std::string& rule) {
  static constexpr char kMark[] =
      "UPDATE artifacts SET removed_at = ?2, removed_by = ?3 WHERE id = ?1 AND removed_at = 0";
  stmt(kMark).bind(1, artifactId).bind(2, now).bind(3, rule).run();
}

std::vector<std::string> Database::buildersWithKeptLogs() {
  // Read from the partial index alone (a running build's builder is
  // listed too; its query then finds nothing).
  static constexpr char kBuilders[] = "SELECT DISTINCT builder FROM builds WHERE logs_removed_at = 0 ORDER BY 1";
  Statement s = stmt(kBuilders);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.getText(0));
  return out;
}

std::vector<std::int64_t> Database::buildsWithLogsFinishedBefore(const std::string& builder,
                                                                 std::int64_t horizon, int limit) {
  static constexpr char kOld[] =
      "SELECT id FROM builds WHERE builder = ?1 AND logs_removed_at = 0 AND finished = 1"
      " AND finished_at < ?2 ORDER BY number LIMIT ?3";
  Statement s = stmt(kOld);
  s.bind(1, builder).bind(2, horizon).bind(3, std::int64_t{limit});
  return retentionIds(s);
}

std::vector<std::int64_t> Database::buildsWithLogsBeyondNewest(const std::string& builder, int keep, int limit) {
  static constexpr char kBeyond[] =
      "SELECT id FROM builds WHERE builder = ?1 AND logs_removed_at = 0 AND finished = 1"
      " ORDER BY number DESC LIMIT ?3 OFFSET ?2";
  Statement s = stmt(kBeyond);
  s.bind(1, builder).bind(2, std::int64_t{keep}).bind(3, std::int64_t{limit});
  return retentionIds(s);
}

std::int64_t Database::removeBuildLogs(std::int64_t buildId, std::int64_t now, const std::string& rule) {
  static constexpr char kMark[] =
      "UPDATE builds SET logs_removed_at = ?2, logs_removed_by = ?3 WHERE id = ?1 AND logs_removed_at = 0"
      " AND finished = 1";
  static constexpr char kBytes[] =
      "SELECT coalesce(sum(l.bytes), 0) FROM logs l JOIN steps s ON s.id = l.step_id WHERE s.build_id = ?1";
  static constexpr char kChunks[] =
      "DELETE FROM log_chunks WHERE log_id IN"
      " (SELECT l.id FROM logs l JOIN steps s ON s.id = l.step_id WHERE s.build_id = ?1)";
  return transaction([&]() -> std::int64_t {
    Statement mark = stmt(kMark);
    mark.bind(1, buildId).bind(2, now).bind(3, rule).run();
    if (mark.changes() != 1) return -1;
    Statement bytes = stmt(kBytes);
    bytes.bind(1, buildId);
    bytes.requireRow();
    const std::int64_t n = bytes.getInt(0);
    removeLogFilesOfBuilds({buildId});
    stmt(kChunks).bind(1, buildId).run();
    return n;
  });
}

#undef BB_RETENTION_OWN_BUILD

}  // namespace bb::db
