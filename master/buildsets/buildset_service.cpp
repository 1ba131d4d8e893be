#include "master/buildsets/buildset_service.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"

namespace bb {

std::int64_t BuildsetService::nowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

Event requestEvent(EventType type, std::int64_t requestId, std::int64_t buildsetId,
                   const std::string& builder, Json data) {
  Event e;
  e.type = type;
  e.requestId = requestId;
  e.buildsetId = buildsetId;
  e.builder = builder;
  e.data = std::move(data);
  return e;
}

Event completedEvent(const db::BuildsetRecord& bs) {
  Event e;
  e.type = EventType::BuildsetCompleted;
  e.buildsetId = bs.id;
  e.scheduler = bs.scheduler;
  e.changeIds = bs.sourcestamp.changeIds;
  e.data = Json{{"result", std::string(toString(bs.result))},
                {"reason", bs.reason},
                {"parent_build_id", bs.parentBuildId}};
  return e;
}

}  // namespace

NewBuildset BuildsetService::create(const std::string& scheduler, const std::string& reason,
                                    const db::SourceStamp& ss, const Json& properties,
                                    const std::vector<std::string>& builders, int priority,
                                    std::int64_t parentBuildId) {
  db::BuildsetRecord bs;
  bs.reason = reason;
  bs.scheduler = scheduler;
  bs.sourcestamp = ss;
  bs.properties = properties;
  bs.submittedAt = nowSeconds();
  bs.parentBuildId = parentBuildId;
  auto [id, requests] = db_.transaction([&] {
    auto created = db_.addBuildset(bs, builders, priority);
    Event e;
    e.type = EventType::BuildsetCreated;
    e.buildsetId = created.first;
    e.scheduler = scheduler;
    e.changeIds = ss.changeIds;
    Json reqs = Json::object();
    for (const auto& [builder, rid] : created.second) reqs[builder] = rid;
    e.data = Json{{"reason", reason},       {"branch", ss.branch},   {"revision", ss.revision},
                  {"repository", ss.repository}, {"project", ss.project}, {"requests", reqs},
                  {"parent_build_id", parentBuildId}};
    events_.publish(std::move(e));
    for (const auto& [builder, rid] : created.second) {
      events_.publish(requestEvent(EventType::RequestCreated, rid, created.first, builder,
                                   Json{{"priority", priority}}));
      if (!collapsing_.count(builder)) continue;
      for (const auto& c : db_.collapseRequests(rid, bs.submittedAt)) {
        spdlog::info("builder {}: request {} collapsed into request {} (SKIPPED)", builder,
                     c.requestId, rid);
        const auto old = db_.getRequest(c.requestId);
        events_.publish(requestEvent(EventType::RequestCollapsed, c.requestId,
                                     old ? old->buildsetId : 0, builder,
                                     Json{{"replaced_by", rid}}));
        if (c.completion) completed(*c.completion);
      }
    }
    return created;
  });
  spdlog::info("scheduler {} created buildset {} ({} request(s)): {}", scheduler, id,
               requests.size(), reason);
  return NewBuildset{id, requests};
}

db::CancelResult BuildsetService::cancel(std::int64_t requestId, const std::string& who) {
  return db_.transaction([&] {
    db::CancelResult r = db_.cancelRequest(requestId, "cancelled by " + who, nowSeconds());
    if (r.outcome == db::CancelOutcome::Cancelled) {
      spdlog::info("request {} cancelled by {}", requestId, who);
      const auto req = db_.getRequest(requestId);
      events_.publish(requestEvent(EventType::RequestCancelled, requestId,
                                   req ? req->buildsetId : 0, req ? req->builder : "",
                                   Json{{"by", who}}));
      if (r.completion) completed(*r.completion);
    }
    return r;
  });
}

bool BuildsetService::setPriority(std::int64_t requestId, int priority, const std::string& who) {
  return db_.transaction([&] {
    if (!db_.setRequestPriority(requestId, priority)) return false;
    spdlog::info("request {}: priority set to {} by {}", requestId, priority, who);
    const auto req = db_.getRequest(requestId);
    events_.publish(requestEvent(EventType::RequestPriority, requestId, req ? req->buildsetId : 0,
                                 req ? req->builder : "", Json{{"priority", priority}, {"by", who}}));
    return true;
  });
}

void BuildsetService::completed(const db::BuildsetCompletion& done) {
  auto bs = db_.getBuildset(done.buildsetId);
  if (!bs) {
    spdlog::error("buildset {} completed but is not in the database", done.buildsetId);
    return;
  }
  // Said once it is written: a transaction a full disk refuses is tried
  // again (PendingWrites), and must not announce it each time.
  db_.afterCommit([id = bs->id, result = bs->result] {
    spdlog::info("buildset {} complete: {}", id, toString(result));
  });
  events_.publish(completedEvent(*bs));
}

bool BuildsetService::completedElsewhere(std::int64_t buildsetId) {
  if (!events_.anyoneMayWant(EventType::BuildsetCompleted, /*fromOtherMaster=*/true)) return true;
  auto bs = db_.getBuildset(buildsetId);
  if (!bs || !bs->complete) return false;
  Event e = completedEvent(*bs);
  e.fromOtherMaster = true;
  events_.publish(std::move(e));
  return true;
}

}  // namespace bb
