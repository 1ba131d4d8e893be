// Changing pending build requests: cancel, priority, collapsing; and the
// BuildSets a build triggered.
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

CancelResult Database::cancelRequest(std::int64_t brid, const std::string& text,
                                     std::int64_t now) {
  static constexpr char kCancel[] =
      "UPDATE buildrequests SET complete = 1, result = ?2, complete_at = ?3, complete_text = ?4"
      " WHERE id = ?1 AND complete = 0 AND claimed = 0 RETURNING buildset_id";
  static constexpr char kState[] = "SELECT claimed, complete FROM buildrequests WHERE id = ?1";
  return transaction([&]() -> CancelResult {
    std::int64_t bsid = 0;
    {
      Statement s = stmt(kCancel);
      s.bind(1, brid).bind(2, Result::Cancelled).bind(3, now).bind(4, text);
      if (!s.step()) {
        Statement e = stmt(kState);
        e.bind(1, brid);
        if (!e.step()) return {CancelOutcome::Unknown, std::nullopt};
        return {e.getBool(1) ? CancelOutcome::Complete : CancelOutcome::Claimed, std::nullopt};
      }
      bsid = s.getInt(0);
    }
    return {CancelOutcome::Cancelled, completeBuildsetIfDone(bsid, now)};
  });
}

bool Database::setRequestPriority(std::int64_t brid, int priority) {
  static constexpr char kUpdate[] =
      "UPDATE buildrequests SET priority = ?2 WHERE id = ?1 AND complete = 0";
  Statement s = stmt(kUpdate);
  s.bind(1, brid).bind(2, std::int64_t{priority}).run();
  return s.changes() == 1;
}

std::vector<CollapsedRequest> Database::collapseRequests(std::int64_t newRequestId,
                                                         std::int64_t now) {
  // Older pending requests of the same builder whose BuildSet has the same
  // repository, branch and project; triggered BuildSets (a parent build
  // waits for their own result) and try BuildSets (each is its own patch)
  // are never collapsed, in either direction.
  static constexpr char kOlder[] =
      "SELECT o.id FROM buildrequests n"
      " JOIN buildsets nb ON nb.id = n.buildset_id"
      " JOIN buildrequests o ON o.builder = n.builder AND o.id < n.id"
      "  AND o.complete = 0 AND o.claimed = 0"
      " JOIN buildsets ob ON ob.id = o.buildset_id"
      " WHERE n.id = ?1 AND n.complete = 0 AND nb.parent_build_id = 0"
      "  AND ob.parent_build_id = 0 AND ob.ss_repository = nb.ss_repository"
      "  AND ob.ss_branch = nb.ss_branch AND ob.ss_project = nb.ss_project"
      "  AND NOT EXISTS (SELECT 1 FROM buildset_patches p WHERE p.buildset_id IN (nb.id, ob.id))"
      " ORDER BY o.id";
  static constexpr char kCollapse[] =
      "UPDATE buildrequests SET complete = 1, result = ?2, complete_at = ?3, replaced_by = ?4,"
      " complete_text = ?5 WHERE id = ?1 AND complete = 0 AND claimed = 0"
      " RETURNING buildset_id";
  return transaction([&] {
    std::vector<std::int64_t> older;
    {
      Statement s = stmt(kOlder);
      s.bind(1, newRequestId);
      while (s.step()) older.push_back(s.getInt(0));
    }
    std::vector<CollapsedRequest> out;
    const std::string text = "collapsed into request " + std::to_string(newRequestId);
    for (std::int64_t id : older) {
      std::int64_t bsid = 0;
      {
        Statement s = stmt(kCollapse);
        s.bind(1, id).bind(2, Result::Skipped).bind(3, now).bind(4, newRequestId).bind(5, text);
        if (!s.step()) continue;
        bsid = s.getInt(0);
      }
      out.push_back({id, completeBuildsetIfDone(bsid, now)});
    }
    return out;
  });
}

std::vector<BuildsetRecord> Database::childBuildsets(std::int64_t parentBuildId) {
  // "!= 0" lets SQLite use the partial index buildsets_by_parent (it
  // cannot tell that a bound ?1 is not 0): without it every build page
  // scanned all BuildSets (1.7 s per waterfall with 100,000 of them).
  static constexpr char kIds[] =
      "SELECT id FROM buildsets WHERE parent_build_id = ?1 AND parent_build_id != 0 ORDER BY id";
  std::vector<std::int64_t> ids;
  {
    Statement s = stmt(kIds);
    s.bind(1, parentBuildId);
    while (s.step()) ids.push_back(s.getInt(0));
  }
  std::vector<BuildsetRecord> out;
  for (std::int64_t id : ids) {
    if (auto b = getBuildset(id)) out.push_back(std::move(*b));
  }
  return out;
}

}  // namespace bb::db
