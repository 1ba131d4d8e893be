// Buildsets (with their sourcestamp and changes) and build requests.
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

#define BB_REQUEST_COLUMNS                                                                \
  "id, buildset_id, builder, priority, submitted_at, claimed, claimed_at, complete, result," \
  " complete_at, retries, replaced_by, complete_text, claimed_by"

BuildRequestRecord readRequest(const Statement& s) {
  BuildRequestRecord r;
  r.id = s.getInt(0);
  r.buildsetId = s.getInt(1);
  r.builder = s.getText(2);
  r.priority = static_cast<int>(s.getInt(3));
  r.submittedAt = s.getInt(4);
  r.claimed = s.getBool(5);
  r.claimedAt = s.getInt(6);
  r.complete = s.getBool(7);
  r.result = s.getResult(8);
  r.completeAt = s.getInt(9);
  r.retries = static_cast<int>(s.getInt(10));
  r.replacedBy = s.getInt(11);
  r.completeText = s.getText(12);
  r.claimedBy = s.getInt(13);  // NULL (none) reads as 0
  return r;
}

#define BB_BUILDSET_COLUMNS                                                              \
  "id, reason, scheduler, ss_repository, ss_branch, ss_revision, ss_project, properties," \
  " submitted_at, complete, complete_at, result, parent_build_id"

BuildsetRecord readBuildset(const Statement& s) {
  BuildsetRecord b;
  b.id = s.getInt(0);
  b.reason = s.getText(1);
  b.scheduler = s.getText(2);
  b.sourcestamp.repository = s.getText(3);
  b.sourcestamp.branch = s.getText(4);
  b.sourcestamp.revision = s.getText(5);
  b.sourcestamp.project = s.getText(6);
  b.properties = s.getJson(7);
  b.submittedAt = s.getInt(8);
  b.complete = s.getBool(9);
  b.completeAt = s.getInt(10);
  b.result = s.getResult(11);
  b.parentBuildId = s.getInt(12);
  return b;
}

}  // namespace

std::pair<std::int64_t, std::map<std::string, std::int64_t>> Database::addBuildset(
    const BuildsetRecord& bs, const std::vector<std::string>& builders, int priority) {
  static constexpr char kInsert[] =
      "INSERT INTO buildsets (reason, scheduler, ss_repository, ss_branch, ss_revision,"
      " ss_project, properties, submitted_at, parent_build_id)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id";
  static constexpr char kChange[] =
      "INSERT INTO buildset_changes (buildset_id, seq, change_id) VALUES (?1, ?2, ?3)";
  static constexpr char kRequest[] =
      "INSERT INTO buildrequests (buildset_id, builder, priority, submitted_at)"
      " VALUES (?1, ?2, ?3, ?4) RETURNING id";
  if (!bs.properties.is_object()) {
    throw DbError("addBuildset: properties must be a JSON object, got " + bs.properties.dump());
  }
  return transaction([&] {
    std::int64_t bsid = 0;
    {
      Statement s = stmt(kInsert);
      s.bind(1, bs.reason).bind(2, bs.scheduler).bind(3, bs.sourcestamp.repository);
      s.bind(4, bs.sourcestamp.branch).bind(5, bs.sourcestamp.revision);
      s.bind(6, bs.sourcestamp.project).bindJson(7, bs.properties).bind(8, bs.submittedAt);
      s.bind(9, bs.parentBuildId);
      s.requireRow();
      bsid = s.getInt(0);
    }
    if (const auto& patch = bs.sourcestamp.patch) {
      static constexpr char kPatch[] =
          "INSERT INTO buildset_patches (buildset_id, patch_level, body, author, comment, try_job_id)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
      Statement s = stmt(kPatch);
      s.bind(1, bsid).bind(2, std::int64_t{patch->level});
      s.bindBlobNoCopy(3, patch->body.data(), patch->body.size());
      s.bind(4, patch->who).bind(5, patch->comment);
      if (patch->jobId.empty())
        s.bindNull(6);
      else
        s.bind(6, patch->jobId);
      s.runAhead();
    }
    std::int64_t seq = 0;
    for (std::int64_t changeId : bs.sourcestamp.changeIds) {
      stmt(kChange).bind(1, bsid).bind(2, seq++).bind(3, changeId).runAhead();
    }
    std::map<std::string, std::int64_t> requests;
    for (const std::string& builder : builders) {
      if (requests.count(builder)) continue;
      Statement s = stmt(kRequest);
      s.bind(1, bsid).bind(2, builder).bind(3, std::int64_t{priority}).bind(4, bs.submittedAt);
      s.requireRow();
      requests.emplace(builder, s.getInt(0));
    }
    return std::make_pair(bsid, std::move(requests));
  });
}

std::optional<BuildsetRecord> Database::getBuildset(std::int64_t id) {
  static constexpr char kSelect[] = "SELECT " BB_BUILDSET_COLUMNS " FROM buildsets WHERE id = ?1";
  static constexpr char kChanges[] =
      "SELECT change_id FROM buildset_changes WHERE buildset_id = ?1 ORDER BY seq";
  BuildsetRecord b;
  {
    Statement s = stmt(kSelect);
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    b = readBuildset(s);
  }
  Statement s = stmt(kChanges);
  s.bind(1, id);
  while (s.step()) b.sourcestamp.changeIds.push_back(s.getInt(0));
  return b;
}

std::optional<SourcePatch> Database::getBuildsetPatch(std::int64_t bsid) {
  static constexpr char kSql[] =
      "SELECT patch_level, body, author, comment, try_job_id FROM buildset_patches"
      " WHERE buildset_id = ?1";
  Statement s = stmt(kSql);
  s.bind(1, bsid);
  if (!s.step()) return std::nullopt;
  SourcePatch p;
  p.level = static_cast<int>(s.getInt(0));
  p.body = std::string(s.getBlob(1));
  p.who = s.getText(2);
  p.comment = s.getText(3);
  if (!s.isNull(4)) p.jobId = s.getText(4);
  return p;
}

std::optional<SourcePatch> Database::getBuildsetPatchInfo(std::int64_t bsid, std::int64_t* bytes) {
  static constexpr char kSql[] =
      "SELECT patch_level, length(body), author, comment, try_job_id FROM buildset_patches"
      " WHERE buildset_id = ?1";
  Statement s = stmt(kSql);
  s.bind(1, bsid);
  if (!s.step()) return std::nullopt;
  SourcePatch p;
  p.level = static_cast<int>(s.getInt(0));
  if (bytes) *bytes = s.getInt(1);
  p.who = s.getText(2);
  p.comment = s.getText(3);
  if (!s.isNull(4)) p.jobId = s.getText(4);
  return p;
}

std::optional<std::int64_t> Database::buildsetForTryJob(const std::string& jobId) {
  static constexpr char kSql[] = "SELECT buildset_id FROM buildset_patches WHERE try_job_id = ?1";
  Statement s = stmt(kSql);
  s.bind(1, jobId);
  if (!s.step()) return std::nullopt;
  return s.getInt(0);
}

std::optional<std::int64_t> Database::lastBuildsetId() {
  static constexpr char kSql[] = "SELECT max(id) FROM buildsets";
  Statement s = stmt(kSql);
  if (!s.step() || s.isNull(0)) return std::nullopt;
  return s.getInt(0);
}

std::vector<BuildsetRecord> Database::incompleteBuildsets() {
  static constexpr char kIds[] = "SELECT id FROM buildsets WHERE complete = 0 ORDER BY id";
  std::vector<std::int64_t> ids;
  {
    Statement s = stmt(kIds);
    while (s.step()) ids.push_back(s.getInt(0));
  }
  std::vector<BuildsetRecord> out;
  for (std::int64_t id : ids) {
    if (auto b = getBuildset(id)) out.push_back(std::move(*b));
  }
  return out;
}

std::vector<std::int64_t> Database::buildsetsCompletedSince(std::int64_t since, MasterId master) {
  static constexpr char kIds[] =
      "SELECT bs.id FROM buildsets bs WHERE bs.complete = 1 AND bs.complete_at >= ?1"
      " AND NOT EXISTS (SELECT 1 FROM buildrequests r WHERE r.buildset_id = bs.id"
      " AND r.complete_at = bs.complete_at AND r.claimed_by = ?2) ORDER BY bs.id";
  Statement s = stmt(kIds);
  s.bind(1, since).bind(2, master.value);
  std::vector<std::int64_t> ids;
  while (s.step()) ids.push_back(s.getInt(0));
  return ids;
}

std::vector<BuildRequestRecord> Database::requestsForBuildset(std::int64_t bsid) {
  static constexpr char kSelect[] =
      "SELECT " BB_REQUEST_COLUMNS " FROM buildrequests WHERE buildset_id = ?1 ORDER BY id";
  std::vector<BuildRequestRecord> out;
  Statement s = stmt(kSelect);
  s.bind(1, bsid);
  while (s.step()) out.push_back(readRequest(s));
  return out;
}

std::vector<std::int64_t> Database::buildsetsForChange(std::int64_t changeId) {
  static constexpr char kSelect[] =
      "SELECT DISTINCT buildset_id FROM buildset_changes WHERE change_id = ?1"
      " ORDER BY buildset_id";
  std::vector<std::int64_t> out;
  Statement s = stmt(kSelect);
  s.bind(1, changeId);
  while (s.step()) out.push_back(s.getInt(0));
  return out;
}

std::vector<BuildRequestRecord> Database::pendingRequests() {
  // The WHERE clause matches the partial index buildrequests_pending, whose
  // order is the ORDER BY: no sort, no scan of finished requests.
  static constexpr char kSelect[] =
      "SELECT " BB_REQUEST_COLUMNS " FROM buildrequests WHERE complete = 0 AND claimed = 0"
      " ORDER BY priority DESC, submitted_at, id";
  std::vector<BuildRequestRecord> out;
  Statement s = stmt(kSelect);
  while (s.step()) out.push_back(readRequest(s));
  return out;
}

std::vector<BuildRequestRecord> Database::pendingRequestsPage(const BuildRequestRecord* after,
                                                              std::int64_t limit) {
  // Both use buildrequests_pending; the second starts its scan after the
  // given row (priority descending, then submission time and id ascending).
  static constexpr char kFirst[] =
      "SELECT " BB_REQUEST_COLUMNS " FROM buildrequests WHERE complete = 0 AND claimed = 0"
      " ORDER BY priority DESC, submitted_at, id LIMIT ?1";
  static constexpr char kAfter[] =
      "SELECT " BB_REQUEST_COLUMNS " FROM buildrequests WHERE complete = 0 AND claimed = 0"
      " AND (priority < ?2 OR (priority = ?2 AND (submitted_at > ?3"
      " OR (submitted_at = ?3 AND id > ?4))))"
      " ORDER BY priority DESC, submitted_at, id LIMIT ?1";
  std::vector<BuildRequestRecord> out;
  Statement s = stmt(after ? kAfter : kFirst);
  s.bind(1, limit);
  if (after)
    s.bind(2, static_cast<std::int64_t>(after->priority)).bind(3, after->submittedAt).bind(4, after->id);
  while (s.step()) out.push_back(readRequest(s));
  return out;
}

std::optional<BuildRequestRecord> Database::getRequest(std::int64_t brid) {
  static constexpr char kSelect[] =
      "SELECT " BB_REQUEST_COLUMNS " FROM buildrequests WHERE id = ?1";
  Statement s = stmt(kSelect);
  s.bind(1, brid);
  if (!s.step()) return std::nullopt;
  return readRequest(s);
}

bool Database::claimRequest(std::int64_t brid, MasterId master, std::int64_t now) {
  static constexpr char kClaim[] =
      "UPDATE buildrequests SET claimed = 1, claimed_at = ?2, claimed_by = ?3"
      " WHERE id = ?1 AND claimed = 0 AND complete = 0";
  Statement s = stmt(kClaim);
  s.bind(1, brid).bind(2, now).bind(3, master.value).run();
  return s.changes() == 1;
}

void Database::unclaimRequest(std::int64_t brid, bool countRetry) {
  static constexpr char kUnclaim[] =
      "UPDATE buildrequests SET claimed = 0, claimed_at = 0, claimed_by = NULL,"
      " retries = retries + ?2 WHERE id = ?1 AND complete = 0";
  stmt(kUnclaim).bind(1, brid).bind(2, std::int64_t{countRetry ? 1 : 0}).runAhead();
}

bool Database::giveBackRequest(std::int64_t brid, MasterId master) {
  static constexpr char kGiveBack[] =
      "UPDATE buildrequests SET claimed = 0, claimed_at = 0, claimed_by = NULL"
      " WHERE id = ?1 AND claimed = 1 AND claimed_by = ?2 AND complete = 0";
  Statement s = stmt(kGiveBack);
  s.bind(1, brid).bind(2, master.value).run();
  return s.changes() == 1;
}

int Database::unclaimRequestsOf(MasterId master) {
  // claimed_by NULL: claimed before masters had identities (schema < 5),
  // when there was only ever one master.
  static constexpr char kUnclaim[] =
      "UPDATE buildrequests SET claimed = 0, claimed_at = 0, claimed_by = NULL"
      " WHERE complete = 0 AND claimed = 1 AND (claimed_by = ?1 OR claimed_by IS NULL)";
  Statement s = stmt(kUnclaim);
  s.bind(1, master.value).run();
  return s.changes();
}

std::optional<BuildsetCompletion> Database::completeRequest(std::int64_t brid, Result r,
                                                            std::int64_t now,
                                                            const std::string& text) {
  static constexpr char kComplete[] =
      "UPDATE buildrequests SET complete = 1, result = ?2, complete_at = ?3, complete_text = ?4"
      " WHERE id = ?1 AND complete = 0 RETURNING buildset_id";
  static constexpr char kExists[] = "SELECT 1 FROM buildrequests WHERE id = ?1";
  return transaction([&]() -> std::optional<BuildsetCompletion> {
    std::int64_t bsid = 0;
    {
      Statement s = stmt(kComplete);
      s.bind(1, brid).bind(2, r).bind(3, now).bind(4, text);
      if (!s.step()) {
        Statement e = stmt(kExists);
        e.bind(1, brid);
        if (!e.step()) {
          throw DbError("completeRequest: no build request with id " + std::to_string(brid));
        }
        return std::nullopt;  // already complete
      }
      bsid = s.getInt(0);
    }
    return completeBuildsetIfDone(bsid, now);
  });
}

std::optional<BuildsetCompletion> Database::completeBuildsetIfDone(std::int64_t bsid,
                                                                   std::int64_t now) {
  static constexpr char kSiblings[] =
      "SELECT complete, result FROM buildrequests WHERE buildset_id = ?1";
  static constexpr char kCompleteBuildset[] =
      "UPDATE buildsets SET complete = 1, complete_at = ?2, result = ?3"
      " WHERE id = ?1 AND complete = 0";
  Result overall = Result::Success;
  bool first = true;
  {
    Statement s = stmt(kSiblings);
    s.bind(1, bsid);
    while (s.step()) {
      if (!s.getBool(0)) return std::nullopt;  // another request is still open
      const Result sibling = s.getResult(1);
      overall = first ? sibling : worst(overall, sibling);
      first = false;
    }
  }
  Statement s = stmt(kCompleteBuildset);
  s.bind(1, bsid).bind(2, now).bind(3, overall).run();
  if (s.changes() != 1) return std::nullopt;
  return BuildsetCompletion{bsid, overall};
}

}  // namespace bb::db

namespace bb::db {

std::vector<BuildRequestRecord> Database::recentRequests(int limit) {
  static constexpr char kSelect[] =
      "SELECT " BB_REQUEST_COLUMNS " FROM buildrequests ORDER BY id DESC LIMIT ?1";
  std::vector<BuildRequestRecord> out;
  Statement s = stmt(kSelect);
  s.bind(1, std::int64_t{limit});
  while (s.step()) out.push_back(readRequest(s));
  return out;
}

std::vector<BuildsetRecord> Database::recentBuildsets(int limit) {
  static constexpr char kIds[] = "SELECT id FROM buildsets ORDER BY id DESC LIMIT ?1";
  std::vector<std::int64_t> ids;
  {
    Statement s = stmt(kIds);
    s.bind(1, std::int64_t{limit});
    while (s.step()) ids.push_back(s.getInt(0));
  }
  std::vector<BuildsetRecord> out;
  for (std::int64_t id : ids)
    if (auto b = getBuildset(id)) out.push_back(std::move(*b));
  return out;
}

}  // namespace bb::db
