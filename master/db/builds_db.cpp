// Builds and their steps.
#include "master/db/database.hpp"
#include "master/db/db_error.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

#define BB_BUILD_COLUMNS                                                                    \
  "id, request_id, builder, number, slave, started_at, finished_at, finished, result, text," \
  " properties, master_id, logs_removed_at, logs_removed_by"

BuildRecord readBuild(const Statement& s) {
  BuildRecord b;
  b.id = s.getInt(0);
  b.requestId = s.getInt(1);  // NULL (no request) reads as 0
  b.builder = s.getText(2);
  b.number = static_cast<int>(s.getInt(3));
  b.slave = s.getText(4);
  b.startedAt = s.getInt(5);
  b.finishedAt = s.getInt(6);
  b.finished = s.getBool(7);
  b.result = s.getResult(8);
  b.text = s.getText(9);
  b.properties = s.getJson(10);
  b.masterId = s.getInt(11);  // NULL (started before masters had ids) reads as 0
  b.logsRemovedAt = s.getInt(12);
  b.logsRemovedBy = s.getText(13);
  return b;
}

StepRecord readStep(const Statement& s) {
  StepRecord st;
  st.id = s.getInt(0);
  st.buildId = s.getInt(1);
  st.number = static_cast<int>(s.getInt(2));
  st.name = s.getText(3);
  st.startedAt = s.getInt(4);
  st.finishedAt = s.getInt(5);
  st.finished = s.getBool(6);
  st.result = s.getResult(7);
  st.text = s.getText(8);
  st.urls = s.getJson(9);
  if (!st.urls.is_array()) st.urls = Json::array();
  return st;
}

const Json& orEmptyObject(const Json& j) {
  static const Json kEmpty = Json::object();
  return j.is_null() ? kEmpty : j;
}

std::vector<BuildRecord> readBuilds(Statement& s) {
  std::vector<BuildRecord> out;
  while (s.step()) out.push_back(readBuild(s));
  return out;
}

}  // namespace

BuildRecord Database::addBuild(MasterId master, std::int64_t requestId,
                               const std::string& builder, const std::string& slave,
                               std::int64_t now, const Json& properties) {
  // The number comes from the UNIQUE (builder, number) index: max() on it is
  // one index seek. Several masters on one PostgreSQL database can start a
  // build of one builder at the same instant and both read the same max():
  // the later insert then meets the other's row (PostgreSQL waits for that
  // transaction to end), inserts nothing instead of failing (which would
  // abort the enclosing transaction), and is run again, seeing the new
  // max(). With one writer (SQLite) the first attempt always inserts.
  static constexpr char kInsert[] =
      "INSERT INTO builds (request_id, builder, number, slave, started_at, properties, master_id)"
      " VALUES (?1, ?2, (SELECT coalesce(max(number), 0) + 1 FROM builds WHERE builder = ?2),"
      " ?3, ?4, ?5, ?6) ON CONFLICT (builder, number) DO NOTHING RETURNING id, number";
  constexpr int kAttempts = 20;
  const Json& props = orEmptyObject(properties);
  BuildRecord b;
  for (int attempt = 1;; ++attempt) {
    Statement s = stmt(kInsert);
    if (requestId == 0) s.bindNull(1);
    else s.bind(1, requestId);
    s.bind(2, builder).bind(3, slave).bind(4, now).bindJson(5, props).bind(6, master.value);
    if (s.step()) {
      b.id = s.getInt(0);
      b.number = static_cast<int>(s.getInt(1));
      break;
    }
    if (attempt == kAttempts)
      throw DbError("no free build number for builder '" + builder + "' after " +
                        std::to_string(kAttempts) + " attempts: other masters kept taking them",
                    DbErrorKind::Constraint);
  }
  b.requestId = requestId;
  b.builder = builder;
  b.slave = slave;
  b.masterId = master.value;
  b.startedAt = now;
  b.properties = props;
  return b;
}

void Database::finishBuild(std::int64_t buildId, Result r, const std::string& text,
                           std::int64_t now) {
  static constexpr char kFinish[] =
      "UPDATE builds SET finished = 1, result = ?2, text = ?3, finished_at = ?4 WHERE id = ?1";
  Statement s = stmt(kFinish);
  s.bind(1, buildId).bind(2, r).bind(3, text).bind(4, now).runAheadChangingOne("finishBuild: no build with id " + std::to_string(buildId));
}

void Database::setBuildProperties(std::int64_t buildId, const Json& properties) {
  static constexpr char kSet[] = "UPDATE builds SET properties = ?2 WHERE id = ?1";
  Statement s = stmt(kSet);
  s.bind(1, buildId).bindJson(2, orEmptyObject(properties))
      .runAheadChangingOne("setBuildProperties: no build with id " + std::to_string(buildId));
}

std::optional<BuildRecord> Database::getBuild(std::int64_t id) {
  static constexpr char kSelect[] = "SELECT " BB_BUILD_COLUMNS " FROM builds WHERE id = ?1";
  Statement s = stmt(kSelect);
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return readBuild(s);
}

std::optional<BuildRecord> Database::getBuildByNumber(const std::string& builder, int number) {
  static constexpr char kSelect[] =
      "SELECT " BB_BUILD_COLUMNS " FROM builds WHERE builder = ?1 AND number = ?2";
  Statement s = stmt(kSelect);
  s.bind(1, builder).bind(2, std::int64_t{number});
  if (!s.step()) return std::nullopt;
  return readBuild(s);
}

std::vector<BuildRecord> Database::lastBuilds(const std::string& builder, int limit) {
  static constexpr char kSelect[] = "SELECT " BB_BUILD_COLUMNS
                                    " FROM builds WHERE builder = ?1 ORDER BY number DESC"
                                    " LIMIT ?2";
  Statement s = stmt(kSelect);
  s.bind(1, builder).bind(2, std::int64_t{limit});
  return readBuilds(s);
}

std::vector<BuildRecord> Database::buildsForRequest(std::int64_t brid) {
  static constexpr char kSelect[] =
      "SELECT " BB_BUILD_COLUMNS " FROM builds WHERE request_id = ?1 ORDER BY id";
  Statement s = stmt(kSelect);
  s.bind(1, brid);
  return readBuilds(s);
}

std::vector<BuildRecord> Database::unfinishedBuildsOf(MasterId master) {
  // master_id NULL: started before masters had identities (schema < 5).
  static constexpr char kSelect[] =
      "SELECT " BB_BUILD_COLUMNS " FROM builds WHERE finished = 0"
      " AND (master_id = ?1 OR master_id IS NULL) ORDER BY id";
  Statement s = stmt(kSelect);
  s.bind(1, master.value);
  return readBuilds(s);
}

std::optional<BuildRecord> Database::buildOfBuildset(std::int64_t buildsetId, const std::string& builder) {
  static constexpr char kSelect[] =
      "SELECT " BB_BUILD_COLUMNS " FROM builds WHERE request_id IN"
      " (SELECT id FROM buildrequests WHERE buildset_id = ?1 AND builder = ?2) ORDER BY id DESC LIMIT 1";
  Statement s = stmt(kSelect);
  s.bind(1, buildsetId).bind(2, builder);
  if (!s.step()) return std::nullopt;
  return readBuild(s);
}

std::vector<std::string> Database::builderNames() {
  static constexpr char kSelect[] =
      "SELECT builder FROM builds UNION SELECT builder FROM buildrequests ORDER BY 1";
  std::vector<std::string> out;
  Statement s = stmt(kSelect);
  while (s.step()) out.push_back(s.getText(0));
  return out;
}

std::int64_t Database::addStep(std::int64_t buildId, int number, const std::string& name,
                               std::int64_t now) {
  static constexpr char kInsert[] =
      "INSERT INTO steps (build_id, number, name, started_at) VALUES (?1, ?2, ?3, ?4)"
      " RETURNING id";
  Statement s = stmt(kInsert);
  s.bind(1, buildId).bind(2, std::int64_t{number}).bind(3, name).bind(4, now);
  s.requireRow();
  return s.getInt(0);
}

void Database::finishStep(std::int64_t stepId, Result r, const std::string& text,
                          std::int64_t now) {
  static constexpr char kFinish[] =
      "UPDATE steps SET finished = 1, result = ?2, text = ?3, finished_at = ?4 WHERE id = ?1";
  Statement s = stmt(kFinish);
  s.bind(1, stepId).bind(2, r).bind(3, text).bind(4, now).runAheadChangingOne("finishStep: no step with id " + std::to_string(stepId));
}

void Database::setStepUrls(std::int64_t stepId, const Json& urls) {
  static constexpr char kSet[] = "UPDATE steps SET urls = ?2 WHERE id = ?1";
  Statement s = stmt(kSet);
  s.bind(1, stepId).bindJson(2, urls).runAheadChangingOne("setStepUrls: no step with id " + std::to_string(stepId));
}

std::vector<StepRecord> Database::stepsForBuild(std::int64_t buildId) {
  static constexpr char kSelect[] =
      "SELECT id, build_id, number, name, started_at, finished_at, finished, result, text, urls"
      " FROM steps WHERE build_id = ?1 ORDER BY number";
  std::vector<StepRecord> out;
  Statement s = stmt(kSelect);
  s.bind(1, buildId);
  while (s.step()) out.push_back(readStep(s));
  return out;
}

}  // namespace bb::db

namespace bb::db {

std::vector<BuildRecord> Database::recentBuilds(int limit, const std::string& builder) {
  static constexpr char kAll[] = "SELECT " BB_BUILD_COLUMNS " FROM builds ORDER BY id DESC LIMIT ?1";
  static constexpr char kOne[] =
      "SELECT " BB_BUILD_COLUMNS " FROM builds WHERE builder = ?2 ORDER BY id DESC LIMIT ?1";
  Statement s = stmt(builder.empty() ? kAll : kOne);
  s.bind(1, std::int64_t{limit});
  if (!builder.empty()) s.bind(2, builder);
  return readBuilds(s);
}

std::optional<StepRecord> Database::getStep(std::int64_t stepId) {
  static constexpr char kSelect[] =
      "SELECT id, build_id, number, name, started_at, finished_at, finished, result, text, urls"
      " FROM steps WHERE id = ?1";
  Statement s = stmt(kSelect);
  s.bind(1, stepId);
  if (!s.step()) return std::nullopt;
  return readStep(s);
}

}  // namespace bb::db
