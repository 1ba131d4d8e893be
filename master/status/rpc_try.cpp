// The client protocol's try methods (docs/protocol.md §7): try_job for
// `buildbot try --wait`, and the try_userpass path (try_builders,
// try_start, try_upload, try_finish).
#include <algorithm>

#include "master/buildsets/buildset_service.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/schedulers/scheduler_set.hpp"
#include "master/schedulers/try_userpass.hpp"
#include "master/status/rpc_handler.hpp"

namespace bb {

namespace {

std::string text(const Json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return "";
  if (!it->is_string()) throw RpcError("bad_request", std::string(key) + " must be a string");
  return it->get<std::string>();
}

std::int64_t tryNumber(const Json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || !it->is_number_integer()) throw RpcError("bad_request", std::string(key) + " (an integer) is required");
  return it->get<std::int64_t>();
}

// The job's fields as try_start carries them; the patch comes later.
TryJob jobFromParams(const Json& j) {
  if (!j.is_object()) throw RpcError("bad_request", "job must be a map");
  TryJob job;
  job.format = "protocol";
  job.jobId = text(j, "job_id");
  job.branch = text(j, "branch");
  job.baseRevision = text(j, "base_revision");
  job.repository = text(j, "repository");
  job.project = text(j, "project");
  job.comment = text(j, "comment");
  if (auto it = j.find("patch_level"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw RpcError("bad_request", "patch_level must be an integer");
    job.patchLevel = it->get<int>();
  }
  if (auto it = j.find("builders"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw RpcError("bad_request", "builders must be a list of names");
    for (const auto& b : *it) {
      if (!b.is_string()) throw RpcError("bad_request", "builders must be a list of names");
      job.builders.push_back(b.get<std::string>());
    }
  }
  if (auto it = j.find("properties"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw RpcError("bad_request", "properties must be a map of strings");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) throw RpcError("bad_request", "property '" + k + "' must be a string");
      job.properties[k] = v.get<std::string>();
    }
  }
  return job;
}

}  // namespace

Json RpcHandler::tryJob(const Json& p) {
  const std::string jobId = text(p, "job_id");
  if (jobId.empty()) throw RpcError("bad_request", "job_id is required");
  if (auto bsid = db_.buildsetForTryJob(jobId)) return Json{{"job_id", jobId}, {"buildset_id", *bsid}};
  for (auto* s : schedulers_.all())
    if (auto* t = dynamic_cast<TryScheduler*>(s))
      if (auto why = t->refusalOf(jobId); !why.empty())
        return Json{{"job_id", jobId}, {"refused", why}};
  return Json{{"job_id", jobId}};
}

TryUserpassScheduler& RpcHandler::tryScheduler(const std::string& name) {
  std::vector<TryUserpassScheduler*> all;
  for (auto* s : schedulers_.all())
    if (auto* t = dynamic_cast<TryUserpassScheduler*>(s)) all.push_back(t);
  std::string list;
  for (auto* t : all) list += (list.empty() ? "" : ", ") + t->name();
  const std::string known = "try_userpass schedulers: " + (list.empty() ? std::string("none") : list);
  if (name.empty()) {
    if (all.size() == 1) return *all[0];
    throw RpcError(all.empty() ? "not_found" : "bad_request",
                   all.empty() ? "this master has no try_userpass scheduler"
                               : "name the scheduler (--scheduler NAME): there are several",
                   {known});
  }
  for (auto* t : all)
    if (t->name() == name) return *t;
  throw RpcError("not_found", "no try_userpass scheduler named '" + name + "'", {known});
}

Json RpcHandler::tryBuilders(const Json& p) {
  TryUserpassScheduler& s = tryScheduler(text(p, "scheduler"));
  return Json{{"scheduler", s.name()}, {"builders", s.config().builders}, {"max_patch_bytes", s.maxPatchBytes()}};
}

Json RpcHandler::tryStart(const std::string& user, const Json& p) {
  TryUserpassScheduler& s = tryScheduler(text(p, "scheduler"));
  auto job = p.find("job");
  if (job == p.end()) throw RpcError("bad_request", "job is required");
  try {
    const std::string id = s.begin(user, jobFromParams(*job), tryNumber(p, "patch_size"));
    // Room in a frame for the rest of a try_upload request.
    const std::int64_t chunk = std::min<std::int64_t>(256 * 1024, config_().master.maxFrame / 2);
    return Json{{"scheduler", s.name()}, {"upload_id", id}, {"chunk_bytes", chunk}};
  } catch (const TryRefused& e) {
    throw RpcError("rejected", e.what());
  }
}

Json RpcHandler::tryUpload(const std::string& user, const Json& p) {
  TryUserpassScheduler& s = tryScheduler(text(p, "scheduler"));
  auto data = p.find("data");
  if (data == p.end() || !(data->is_binary() || data->is_string()))
    throw RpcError("bad_request", "data (bin) is required");
  const std::string bytes = data->is_binary() ? std::string(data->get_binary().begin(), data->get_binary().end())
                                              : data->get<std::string>();
  try {
    return Json{{"upload_id", text(p, "upload_id")},
                {"received", s.append(user, text(p, "upload_id"), tryNumber(p, "offset"), bytes)}};
  } catch (const TryRefused& e) {
    throw RpcError("rejected", e.what());
  }
}

Json RpcHandler::tryFinish(const std::string& user, const Json& p) {
  TryUserpassScheduler& s = tryScheduler(text(p, "scheduler"));
  try {
    const std::uint64_t seq = buildsets_.events().lastSeq();
    NewBuildset bs = s.finish(user, text(p, "upload_id"));
    Json reqs = Json::object();
    for (const auto& [b, id] : bs.requests) reqs[b] = id;
    return Json{{"job_id", text(p, "upload_id")}, {"buildset_id", bs.id}, {"requests", reqs}, {"event_seq", seq}};
  } catch (const TryRefused& e) {
    throw RpcError("rejected", e.what());
  }
}

}  // namespace bb
