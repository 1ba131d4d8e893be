#include "master/buildsets/buildset_service.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"

namespace bb {

NewBuildset BuildsetService::create(const std::string& scheduler, const std::string& reason,
                                    const db::SourceStamp& ss, const Json& properties,
                                    const std::vector<std::string>& builders, int priority) {
  db::BuildsetRecord bs;
  bs.reason = reason;
  bs.scheduler = scheduler;
  bs.sourcestamp = ss;
  bs.properties = properties;
  bs.submittedAt = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto [id, requests] = db_.addBuildset(bs, builders, priority);
  spdlog::info("scheduler {} created buildset {} ({} request(s)): {}", scheduler, id,
               requests.size(), reason);
  wake_();
  return NewBuildset{id, requests};
}

}  // namespace bb
