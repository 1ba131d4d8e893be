// Views of builds, steps, logs, requests and BuildSets (views.hpp).
#include <algorithm>
#include <chrono>

#include "master/db/database.hpp"
#include "master/status/views.hpp"

namespace bb {

std::string resultText(bool finished, Result r, const char* unfinished) {
  return finished ? std::string(toString(r)) : std::string(unfinished);
}

Json tryView(const Json& properties) {
  auto value = [&](const char* key) -> Json {
    auto it = properties.find(key);
    if (it == properties.end()) return "";
    const Json& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
    return v.is_string() ? v : Json("");
  };
  if (!properties.is_object() || !properties.contains("try_job_id")) return Json();
  return Json{{"job_id", value("try_job_id")}, {"owner", value("owner")}, {"comment", value("try_comment")}};
}

bool isTryBuild(const db::BuildRecord& b) { return b.properties.is_object() && b.properties.contains("try_job_id"); }

Json buildView(const db::BuildRecord& b) {
  Json out{{"id", b.id},
           {"number", b.number},
           {"builder", b.builder},
           {"request_id", b.requestId},
           {"slave", b.slave},
           {"started_at", b.startedAt},
           {"finished_at", b.finishedAt},
           {"finished", b.finished},
           {"result", resultText(b.finished, b.result, "running")},
           {"text", b.text},
           {"properties", b.properties}};
  // A running build waiting for locks says for what and who holds them
  // (the lock_status property Build keeps while it waits).
  if (auto it = b.properties.find("lock_status"); !b.finished && it != b.properties.end()) {
    const Json& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
    if (v.is_string()) out["waiting"] = v;
  }
  if (Json t = tryView(b.properties); !t.is_null()) out["try"] = std::move(t);
  if (b.logsRemovedAt) out["logs_removed"] = retentionRemovalView(b.logsRemovedAt, b.logsRemovedBy);
  return out;
}

Json buildView(db::Database& db, const db::BuildRecord& b) {
  Json out = buildView(b);
  if (!b.finished) {
    // Time left, from the median of the builder's recent passed builds.
    if (auto p50 = db.recentDurationP50(b.builder)) {
      const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      out["estimated_duration"] = *p50;
      out["eta_seconds"] = std::max<std::int64_t>(0, b.startedAt + *p50 - now);
    }
    return out;
  }
  if (b.result != Result::Retry) return out;
  const auto req = db.getRequest(b.requestId);
  if (req && req->complete)
    out["request"] = Json{{"id", req->id}, {"result", std::string(toString(req->result))},
                          {"text", req->completeText}};
  return out;
}

Json logView(const db::LogRecord& l) {
  Json out{{"id", l.id}, {"name", l.name}, {"bytes", l.bytes}, {"finished", l.finished}};
  if (l.removedAt) out["removed"] = retentionRemovalView(l.removedAt, l.removedBy);
  return out;
}

Json stepView(db::Database& db, const db::StepRecord& s) {
  Json logs = Json::array();
  for (const auto& l : db.logsForStep(s.id)) logs.push_back(logView(l));
  return Json{{"number", s.number},
              {"name", s.name},
              {"result", resultText(s.finished, s.result, "running")},
              {"text", s.text},
              {"started_at", s.startedAt},
              {"finished_at", s.finishedAt},
              {"finished", s.finished},
              {"logs", std::move(logs)},
              {"urls", s.urls}};
}

Json buildUrls(const std::vector<db::StepRecord>& steps) {
  Json out = Json::array();
  for (const auto& s : steps)
    for (const auto& u : s.urls) out.push_back(u);
  return out;
}

namespace {

// The build whose trigger step made `b`'s BuildSet (null if none).
Json triggeredBy(db::Database& db, const db::BuildRecord& b) {
  const auto req = db.getRequest(b.requestId);
  const auto bs = req ? db.getBuildset(req->buildsetId) : std::nullopt;
  if (!bs || bs->parentBuildId == 0) return Json();
  const auto parent = db.getBuild(bs->parentBuildId);
  if (!parent) return Json();
  return Json{{"id", parent->id}, {"builder", parent->builder}, {"number", parent->number},
              {"buildset_id", bs->id}};
}

// The BuildSets `b`'s own trigger steps made, oldest first.
Json triggeredBuildsets(db::Database& db, const db::BuildRecord& b) {
  Json out = Json::array();
  for (const auto& bs : db.childBuildsets(b.id)) {
    Json reqs = Json::array();
    for (const auto& r : db.requestsForBuildset(bs.id)) {
      Json builds = Json::array();
      for (const auto& c : db.buildsForRequest(r.id))
        builds.push_back(Json{{"id", c.id}, {"number", c.number}, {"finished", c.finished},
                              {"result", resultText(c.finished, c.result, "running")}});
      reqs.push_back(Json{{"id", r.id}, {"builder", r.builder},
                          {"result", resultText(r.complete, r.result, "pending")},
                          {"builds", std::move(builds)}});
    }
    out.push_back(Json{{"buildset_id", bs.id}, {"scheduler", bs.scheduler}, {"complete", bs.complete},
                       {"result", resultText(bs.complete, bs.result, "pending")},
                       {"requests", std::move(reqs)}});
  }
  return out;
}

}  // namespace

Json buildDetailView(db::Database& db, const db::BuildRecord& b) {
  Json out = buildView(db, b);
  Json steps = Json::array();
  const auto rows = db.stepsForBuild(b.id);
  for (const auto& s : rows) steps.push_back(stepView(db, s));
  out["steps"] = std::move(steps);
  out["urls"] = buildUrls(rows);
  out["artifacts"] = artifactsView(db, b.id);
  out["triggered_by"] = triggeredBy(db, b);
  out["triggered"] = triggeredBuildsets(db, b);
  out["failure"] = buildFailureView(db, b, 20);
  return out;
}

Json requestView(db::Database& db, const db::BuildRequestRecord& r) {
  Json builds = Json::array();
  for (const auto& b : db.buildsForRequest(r.id)) builds.push_back(buildView(b));
  Json out{{"id", r.id},
           {"builder", r.builder},
           {"priority", r.priority},
           {"complete", r.complete},
           {"claimed", r.claimed},
           {"result", resultText(r.complete, r.result, "pending")},
           {"builds", std::move(builds)}};
  if (r.replacedBy != 0) out["replaced_by"] = r.replacedBy;
  if (!r.completeText.empty()) out["text"] = r.completeText;
  return out;
}

Json pendingRequestView(const db::BuildRequestRecord& r) {
  return Json{{"id", r.id}, {"buildset_id", r.buildsetId}, {"priority", r.priority},
              {"submitted_at", r.submittedAt}, {"retries", r.retries}};
}

Json buildsetView(db::Database& db, const db::BuildsetRecord& bs) {
  Json reqs = Json::array();
  for (const auto& r : db.requestsForBuildset(bs.id)) reqs.push_back(requestView(db, r));
  Json out{{"id", bs.id},
            {"reason", bs.reason},
            {"scheduler", bs.scheduler},
            {"complete", bs.complete},
            {"result", resultText(bs.complete, bs.result, "pending")},
            {"submitted_at", bs.submittedAt},
            {"requests", std::move(reqs)}};
  std::int64_t bytes = 0;
  if (auto p = db.getBuildsetPatchInfo(bs.id, &bytes))
    out["patch"] = Json{{"level", p->level}, {"author", p->who}, {"comment", p->comment},
                        {"job_id", p->jobId}, {"bytes", bytes}};
  return out;
}

}  // namespace bb
