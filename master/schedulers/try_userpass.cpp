#include "master/schedulers/try_userpass.hpp"

#include <spdlog/spdlog.h>

#include "master/schedulers/scheduler_type.hpp"

namespace bb {

void TryUserpassScheduler::declareType(SchedulerType& t) { TryScheduler::declareType(t); }

TryUserpassScheduler::TryUserpassScheduler(SchedulerEntry cfg, SchedulerContext ctx)
    : TryScheduler(std::move(cfg), ctx) {}

Json TryUserpassScheduler::describe() const {
  Json d = TryScheduler::describe();
  d["uploads"] = uploads_.size();
  d["chunks"] = chunks_;
  return d;
}

void TryUserpassScheduler::dropStale() {
  const auto now = ctx_.clock.now();
  for (auto it = uploads_.begin(); it != uploads_.end();)
    it = now - it->second.started > kUploadTtl ? uploads_.erase(it) : std::next(it);
  while (uploads_.size() >= kMaxUploads) {
    auto oldest = uploads_.begin();
    for (auto it = uploads_.begin(); it != uploads_.end(); ++it)
      if (it->second.started < oldest->second.started) oldest = it;
    spdlog::warn("scheduler {}: dropping the unfinished try upload {} of {} ({} uploads at once)", cfg_.name,
                 oldest->first, oldest->second.user, kMaxUploads);
    uploads_.erase(oldest);
  }
}

std::string TryUserpassScheduler::begin(const std::string& user, TryJob job, std::int64_t patchBytes) {
  job.who = user;
  job.patch.clear();
  if (patchBytes < 0) throw refusal(job.jobId, "patch_size must not be negative");
  if (auto bad = headerProblem(job); !bad.empty()) throw refusal(job.jobId, bad);
  if (auto bad = sizeProblem(patchBytes); !bad.empty()) throw refusal(job.jobId, bad);
  if (uploads_.count(job.jobId) || duplicateOf(job.jobId))
    throw refusal(job.jobId, "job id already in use");
  dropStale();
  const std::string id = job.jobId;
  Upload& u = uploads_[id];
  u.user = user;
  u.declared = patchBytes;
  u.started = ctx_.clock.now();
  u.job = std::move(job);
  u.job.patch.reserve(static_cast<std::size_t>(patchBytes));
  return id;
}

TryUserpassScheduler::Upload& TryUserpassScheduler::find(const std::string& user, const std::string& uploadId) {
  auto it = uploads_.find(uploadId);
  if (it == uploads_.end() || it->second.user != user)
    throw refusal(uploadId, "unknown upload '" + uploadId + "' (finished, expired after " +
                                std::to_string(kUploadTtl.count()) + " min, or dropped for newer ones); start again");
  return it->second;
}

std::int64_t TryUserpassScheduler::append(const std::string& user, const std::string& uploadId, std::int64_t offset,
                                          const std::string& data) {
  Upload& u = find(user, uploadId);
  const auto received = static_cast<std::int64_t>(u.job.patch.size());
  if (offset != received)
    throw refusal(uploadId, "chunk at offset " + std::to_string(offset) + ", expected " + std::to_string(received));
  if (received + static_cast<std::int64_t>(data.size()) > u.declared) {
    // The message first: erasing the upload frees `u`.
    const std::string why = "more patch bytes than the " + std::to_string(u.declared) + " declared";
    uploads_.erase(uploadId);
    throw refusal(uploadId, why);
  }
  u.job.patch += data;
  ++u.chunks;
  ++chunks_;
  return static_cast<std::int64_t>(u.job.patch.size());
}

NewBuildset TryUserpassScheduler::finish(const std::string& user, const std::string& uploadId) {
  Upload& found = find(user, uploadId);
  Upload u = std::move(found);
  uploads_.erase(uploadId);
  if (static_cast<std::int64_t>(u.job.patch.size()) != u.declared)
    throw refusal(uploadId, "the patch is incomplete: " + std::to_string(u.job.patch.size()) + " of " +
                                std::to_string(u.declared) + " bytes received");
  NewBuildset made = submit(u.job, "user " + user);
  spdlog::info("scheduler {}: try job {} from user {} ({} patch bytes in {} chunk(s)) is buildset {}", cfg_.name,
               u.job.jobId, user, u.job.patch.size(), u.chunks, made.id);
  return made;
}

}  // namespace bb
