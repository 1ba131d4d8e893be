#include "master/buildsets/buildset_service.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"

namespace bb {

std::int64_t BuildsetService::nowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
  std::vector<db::BuildsetCompletion> done;
  auto [id, requests] = db_.transaction([&] {
    auto created = db_.addBuildset(bs, builders, priority);
    for (const auto& [builder, rid] : created.second) {
      if (!collapsing_.count(builder)) continue;
      for (const auto& c : db_.collapseRequests(rid, bs.submittedAt)) {
        spdlog::info("builder {}: request {} collapsed into request {} (SKIPPED)", builder,
                     c.requestId, rid);
        if (c.completion) done.push_back(*c.completion);
      }
    }
    return created;
  });
  spdlog::info("scheduler {} created buildset {} ({} request(s)): {}", scheduler, id,
               requests.size(), reason);
  for (const auto& d : done) completed(d);
  wake_();
  return NewBuildset{id, requests};
}

db::CancelResult BuildsetService::cancel(std::int64_t requestId, const std::string& who) {
  db::CancelResult r = db_.cancelRequest(requestId, "cancelled by " + who, nowSeconds());
  if (r.outcome == db::CancelOutcome::Cancelled) {
    spdlog::info("request {} cancelled by {}", requestId, who);
    if (r.completion) completed(*r.completion);
  }
  return r;
}

bool BuildsetService::setPriority(std::int64_t requestId, int priority, const std::string& who) {
  if (!db_.setRequestPriority(requestId, priority)) return false;
  spdlog::info("request {}: priority set to {} by {}", requestId, priority, who);
  wake_();
  return true;
}

void BuildsetService::completed(const db::BuildsetCompletion& done) {
  auto bs = db_.getBuildset(done.buildsetId);
  if (!bs) {
    spdlog::error("buildset {} completed but is not in the database", done.buildsetId);
    return;
  }
  spdlog::info("buildset {} complete: {}", bs->id, toString(bs->result));
  for (const auto& fn : listeners_) fn(*bs);
  // Taken out before the calls, so a callback may wait or cancel freely.
  auto node = waits_.extract(bs->id);
  if (!node.empty())
    for (auto& [token, fn] : node.mapped()) fn(*bs);
}

std::uint64_t BuildsetService::waitFor(std::int64_t buildsetId, CompletionListener fn) {
  const std::uint64_t token = nextWait_++;
  waits_[buildsetId].emplace(token, std::move(fn));
  return token;
}

void BuildsetService::cancelWait(std::uint64_t token) {
  for (auto it = waits_.begin(); it != waits_.end(); ++it) {
    if (it->second.erase(token) == 0) continue;
    if (it->second.empty()) waits_.erase(it);
    return;
  }
}

}  // namespace bb
