#include "master/schedulers/try_scheduler.hpp"

#include <algorithm>

#include "common/interpolate.hpp"
#include <spdlog/spdlog.h>
#include "common/patch_paths.hpp"
#include "config/yaml_util.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

namespace {

bool checkTryKeys(const cfg::MapReader& r, cfg::MasterParse&, SchedulerEntry&) {
  if (!r.has("max_patch_bytes")) return true;
  return r.integer("max_patch_bytes", 1, TryScheduler::kMaxMaxPatch).has_value();
}

}  // namespace

void TryScheduler::declareType(SchedulerType& t) {
  t.config.keys = {"max_patch_bytes"};
  t.config.check = checkTryKeys;
}

TryScheduler::TryScheduler(SchedulerEntry cfg, SchedulerContext ctx)
    : Scheduler(std::move(cfg), ctx) {
  if (auto it = cfg_.extra.find("max_patch_bytes"); it != cfg_.extra.end() && it->is_number_integer())
    maxPatch_ = it->get<std::int64_t>();
}

Json TryScheduler::describe() const {
  return Json{{"builders", cfg_.builders}, {"max_patch_bytes", maxPatch_},
              {"accepted", accepted_}, {"refused", refused_}};
}

void TryScheduler::noteRefusal(const std::string& jobId, const std::string& why) {
  if (jobId.empty()) return;
  refusals_.emplace_back(jobId, why);
  if (refusals_.size() > kRefusalsKept) refusals_.pop_front();
}

std::string TryScheduler::refusalOf(const std::string& jobId) const {
  for (auto it = refusals_.rbegin(); it != refusals_.rend(); ++it)
    if (it->first == jobId) return it->second;
  return "";
}

std::int64_t TryScheduler::duplicateOf(const std::string& jobId) const {
  return ctx_.db.buildsetForTryJob(jobId).value_or(0);
}

std::string TryScheduler::headerProblem(const TryJob& job) const {
  if (auto bad = checkTryJob(job); !bad.empty()) return bad;
  for (const auto& b : job.builders)
    if (std::find(cfg_.builders.begin(), cfg_.builders.end(), b) == cfg_.builders.end()) {
      std::string list;
      for (const auto& ok : cfg_.builders) list += (list.empty() ? "" : ", ") + ok;
      return "builder '" + b + "' may not be tried here; it can try: " + list;
    }
  for (const auto& [name, value] : job.properties) {
    if (auto bad = checkPropertyName(name)) return *bad;
    if (isSourceStampProperty(name)) return "property '" + name + "' comes from the source stamp; use the job's own field";
  }
  return "";
}

std::string TryScheduler::sizeProblem(std::int64_t patchBytes) const {
  if (patchBytes <= maxPatch_) return "";
  return "the patch is " + std::to_string(patchBytes) + " bytes, more than this scheduler's max_patch_bytes (" +
         std::to_string(maxPatch_) + ")";
}

TryRefused TryScheduler::refusal(const std::string& jobId, const std::string& why) {
  ++refused_;
  noteRefusal(jobId, why);
  return TryRefused("try scheduler '" + cfg_.name + "' refused job " + jobId + ": " + why);
}

NewBuildset TryScheduler::submit(const TryJob& job, const std::string& via) {
  auto refuse = [&](const std::string& why) { return refusal(job.jobId, why); };
  if (auto bad = headerProblem(job); !bad.empty()) throw refuse(bad);
  if (auto bad = sizeProblem(static_cast<std::int64_t>(job.patch.size())); !bad.empty()) throw refuse(bad);
  if (!job.patch.empty()) {
    PatchPaths paths;
    if (auto bad = readPatchPaths(job.patch, job.patchLevel, paths); !bad.empty()) throw refuse(bad);
  }
  Json props = schedulerProperties();
  for (const auto& [name, value] : job.properties) props[name] = Json::array({value, "Try"});
  if (const std::int64_t dup = duplicateOf(job.jobId))
    throw refuse("job id already built as buildset " + std::to_string(dup));
  const std::string owner = job.who.empty() ? via : job.who;
  props["owner"] = Json::array({owner, "Try"});
  props["try_job_id"] = Json::array({job.jobId, "Try"});
  if (!job.comment.empty()) props["try_comment"] = Json::array({job.comment, "Try"});
  auto patch = std::make_shared<db::SourcePatch>();
  patch->level = job.patchLevel;
  patch->body = job.patch;
  patch->who = owner;
  patch->comment = job.comment;
  patch->jobId = job.jobId;
  db::SourceStamp ss{job.repository, job.branch, job.baseRevision, job.project, {}, patch};
  std::string reason = "try by " + owner + " (" + via + ")";
  if (!job.comment.empty()) reason += ": " + job.comment.substr(0, job.comment.find('\n'));
  NewBuildset made = ctx_.buildsets.create(cfg_.name, reason, ss, props, job.builders, cfg_.priority);
  ++accepted_;
  return made;
}

}  // namespace bb
