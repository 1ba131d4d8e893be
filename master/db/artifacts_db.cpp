// Artifacts: the rows; their files are master/artifacts/'s business.
#include "master/db/artifact_rows.hpp"
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

std::int64_t Database::addArtifact(const ArtifactRecord& a) {
  static constexpr char kAdd[] =
      "INSERT INTO artifacts (build_id, name, kind, size, sha256, mode, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
      " ON CONFLICT (build_id, name) DO UPDATE SET kind = excluded.kind, size = excluded.size,"
      " sha256 = excluded.sha256, mode = excluded.mode, created_at = excluded.created_at,"
      " removed_at = 0, removed_by = ''"
      " RETURNING id";
  Statement s = stmt(kAdd);
  s.bind(1, a.buildId).bind(2, a.name).bind(3, a.kind).bind(4, a.size).bind(5, a.sha256);
  s.bind(6, static_cast<std::int64_t>(a.mode)).bind(7, a.createdAt);
  s.requireRow();
  return s.getInt(0);
}

std::vector<ArtifactRecord> Database::artifactsForBuild(std::int64_t buildId) {
  static constexpr char kList[] = "SELECT " BB_ARTIFACT_COLUMNS
                                  " FROM artifacts a JOIN builds b ON b.id = a.build_id"
                                  " WHERE a.build_id = ?1 ORDER BY a.name";
  Statement s = stmt(kList);
  s.bind(1, buildId);
  std::vector<ArtifactRecord> out;
  while (s.step()) out.push_back(readArtifactRow(s));
  return out;
}

std::optional<ArtifactRecord> Database::getArtifact(std::int64_t buildId, const std::string& name) {
  static constexpr char kGet[] = "SELECT " BB_ARTIFACT_COLUMNS
                                 " FROM artifacts a JOIN builds b ON b.id = a.build_id"
                                 " WHERE a.build_id = ?1 AND a.name = ?2";
  Statement s = stmt(kGet);
  s.bind(1, buildId).bind(2, name);
  if (!s.step()) return std::nullopt;
  return readArtifactRow(s);
}

std::int64_t Database::artifactBytesForBuild(std::int64_t buildId) {
  static constexpr char kSum[] = "SELECT COALESCE(SUM(size), 0) FROM artifacts WHERE build_id = ?1 AND removed_at = 0";
  Statement s = stmt(kSum);
  s.bind(1, buildId);
  s.requireRow();
  return s.getInt(0);
}

std::vector<ArtifactRecord> Database::artifactsNamed(const std::string& builder, const std::string& name) {
  static constexpr char kNamed[] = "SELECT " BB_ARTIFACT_COLUMNS
                                   " FROM artifacts a JOIN builds b ON b.id = a.build_id"
                                   " WHERE b.builder = ?1 AND a.name = ?2 AND a.removed_at = 0"
                                   " ORDER BY b.number DESC";
  Statement s = stmt(kNamed);
  s.bind(1, builder).bind(2, name);
  std::vector<ArtifactRecord> out;
  while (s.step()) out.push_back(readArtifactRow(s));
  return out;
}

void Database::deleteArtifact(std::int64_t id) {
  static constexpr char kDelete[] = "DELETE FROM artifacts WHERE id = ?1";
  Statement s = stmt(kDelete);
  s.bind(1, id);
  s.run();
}


}  // namespace bb::db
