#include "master/web/rest_views.hpp"

#include "master/db/database.hpp"
#include "master/status/views.hpp"

namespace bb::web {

Json resultsCode(bool finished, Result r) {
  return finished ? Json(static_cast<int>(r)) : Json();
}

Json restBuild(db::Database& db, const db::BuildRecord& b) {
  Json out = buildView(db, b);
  out["buildid"] = b.id;
  out["buildrequestid"] = b.requestId;
  out["worker"] = b.slave;
  out["complete"] = b.finished;
  out["complete_at"] = b.finished ? Json(b.finishedAt) : Json();
  out["results"] = resultsCode(b.finished, b.result);
  out["state_string"] = b.finished ? b.text : std::string("building");
  return out;
}

Json restBuildWithUrls(db::Database& db, const db::BuildRecord& b) {
  Json out = restBuild(db, b);
  out["urls"] = buildUrls(db.stepsForBuild(b.id));
  return out;
}

Json restStep(const db::StepRecord& s) {
  return Json{{"stepid", s.id},
              {"id", s.id},
              {"buildid", s.buildId},
              {"number", s.number},
              {"name", s.name},
              {"started_at", s.startedAt},
              {"finished_at", s.finishedAt},
              {"finished", s.finished},
              {"complete", s.finished},
              {"complete_at", s.finished ? Json(s.finishedAt) : Json()},
              {"result", resultText(s.finished, s.result, "running")},
              {"results", resultsCode(s.finished, s.result)},
              {"state_string", s.text},
              {"urls", s.urls}};
}

Json restLog(const db::LogRecord& l) {
  Json out = logView(l);
  out["logid"] = l.id;
  out["stepid"] = l.stepId;
  out["complete"] = l.finished;
  out["type"] = "s";
  out["slug"] = l.name;
  return out;
}

Json restRequest(const db::BuildRequestRecord& r) {
  return Json{{"buildrequestid", r.id},
              {"id", r.id},
              {"buildsetid", r.buildsetId},
              {"builder", r.builder},
              {"buildername", r.builder},
              {"priority", r.priority},
              {"submitted_at", r.submittedAt},
              {"claimed", r.claimed},
              {"claimed_at", r.claimed ? Json(r.claimedAt) : Json()},
              {"claimed_by_masterid", r.claimedBy ? Json(r.claimedBy) : Json()},
              {"complete", r.complete},
              {"complete_at", r.complete ? Json(r.completeAt) : Json()},
              {"result", resultText(r.complete, r.result, "pending")},
              {"results", resultsCode(r.complete, r.result)},
              {"retries", r.retries},
              {"replaced_by", r.replacedBy ? Json(r.replacedBy) : Json()},
              {"text", r.completeText}};
}

Json restBuildset(const db::BuildsetRecord& bs) {
  const auto& ss = bs.sourcestamp;
  return Json{{"bsid", bs.id},
              {"id", bs.id},
              {"reason", bs.reason},
              {"scheduler", bs.scheduler},
              {"submitted_at", bs.submittedAt},
              {"complete", bs.complete},
              {"complete_at", bs.complete ? Json(bs.completeAt) : Json()},
              {"result", resultText(bs.complete, bs.result, "pending")},
              {"results", resultsCode(bs.complete, bs.result)},
              {"parent_buildid", bs.parentBuildId ? Json(bs.parentBuildId) : Json()},
              {"properties", bs.properties},
              {"sourcestamps", Json::array({Json{{"repository", ss.repository},
                                                 {"branch", ss.branch},
                                                 {"revision", ss.revision},
                                                 {"project", ss.project},
                                                 {"changeids", ss.changeIds}}})}};
}

Json restChange(const db::ChangeRecord& c) {
  Json out = changeView(c);
  out["changeid"] = c.id;
  out["project"] = c.project;
  out["category"] = c.category;
  out["when_timestamp"] = c.when;
  out["properties"] = c.properties;
  return out;
}

Json restBuilder(const BuilderEntry& b) {
  Json locks = Json::array();
  for (const auto& l : b.locks) locks.push_back(Json{{"lock", l.lock}, {"access", l.access}});
  return Json{{"name", b.name},
              {"description", ""},
              {"tags", Json::array()},
              {"slaves", b.slaves},
              {"workers", b.slaves},
              {"locks", locks},
              {"collapse_requests", b.collapseRequests},
              {"properties", b.properties}};
}

}  // namespace bb::web
