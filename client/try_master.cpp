#include "client/try_master.hpp"

#include <algorithm>

namespace bb::client {

TryDelivery sendTryOverMaster(RequestSender& master, const TryJob& job, const std::string& scheduler) {
  Json fields{{"job_id", job.jobId},
              {"branch", job.branch},
              {"base_revision", job.baseRevision},
              {"patch_level", job.patchLevel},
              {"repository", job.repository},
              {"project", job.project},
              {"builders", job.builders},
              {"properties", job.properties},
              {"comment", job.comment}};
  Json start{{"job", fields}, {"patch_size", static_cast<std::int64_t>(job.patch.size())}};
  if (!scheduler.empty()) start["scheduler"] = scheduler;
  const Json started = master.call("try_start", start);
  TryDelivery d;
  d.scheduler = started.value("scheduler", scheduler);
  const std::string uploadId = started.value("upload_id", job.jobId);
  const auto chunk = static_cast<std::size_t>(std::max<std::int64_t>(256, started.value("chunk_bytes", std::int64_t{65536})));
  for (std::size_t off = 0; off < job.patch.size(); off += chunk) {
    const std::size_t n = std::min(chunk, job.patch.size() - off);
    Json::binary_t bytes(std::vector<std::uint8_t>(job.patch.begin() + static_cast<std::ptrdiff_t>(off),
                                                   job.patch.begin() + static_cast<std::ptrdiff_t>(off + n)));
    master.call("try_upload", Json{{"scheduler", d.scheduler}, {"upload_id", uploadId},
                                   {"offset", static_cast<std::int64_t>(off)}, {"data", Json::binary(std::move(bytes))}});
    ++d.chunks;
  }
  const Json done = master.call("try_finish", Json{{"scheduler", d.scheduler}, {"upload_id", uploadId}});
  d.buildsetId = done.value("buildset_id", std::int64_t{0});
  return d;
}

std::vector<std::string> tryBuilderNames(RequestSender& master, const std::string& scheduler) {
  Json p = Json::object();
  if (!scheduler.empty()) p["scheduler"] = scheduler;
  const Json r = master.call("try_builders", p);
  std::vector<std::string> out;
  for (const auto& b : r.value("builders", Json::array()))
    if (b.is_string()) out.push_back(b.get<std::string>());
  return out;
}

}  // namespace bb::client
