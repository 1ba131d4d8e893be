#include "master/schedulers/scheduler.hpp"

#include <algorithm>

#include "master/db/database.hpp"

namespace bb {

bool Scheduler::wantsSource(const std::string& source) const {
  if (cfg_.changeSources.empty()) return true;
  // Sources are named "<type>:<name>" (git_poller:app) or plain ("sendchange").
  const auto colon = source.find(':');
  const std::string name = colon == std::string::npos ? source : source.substr(colon + 1);
  return std::find(cfg_.changeSources.begin(), cfg_.changeSources.end(), name) !=
             cfg_.changeSources.end() ||
         std::find(cfg_.changeSources.begin(), cfg_.changeSources.end(), source) !=
             cfg_.changeSources.end();
}

void Scheduler::decide(const db::ChangeRecord& change, const std::string& decision,
                       const std::string& reason) const {
  ctx_.db.recordDecision({change.id, cfg_.name, decision, reason});
}

}  // namespace bb
