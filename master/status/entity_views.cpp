// Views of changes, slaves and schedulers (views.hpp).
#include "master/schedulers/scheduler.hpp"
#include "master/slaves/slave_registry.hpp"
#include "master/status/views.hpp"

namespace bb {

Json changeView(const db::ChangeRecord& c) {
  return Json{{"id", c.id},           {"author", c.author},   {"branch", c.branch},
              {"revision", c.revision}, {"repository", c.repository}, {"source", c.source},
              {"comments", c.comments}, {"files", c.files},    {"when", c.when}};
}

Json slaveView(const SlaveEntry& cfg, const SlaveRegistry* live) {
  auto session = live ? live->find(cfg.name) : nullptr;
  const std::string state = !session ? "offline" : session->draining() ? "draining" : "connected";
  return Json{{"name", cfg.name},
              {"state", state},
              {"builds", live ? live->runningBuilds(cfg.name) : 0},
              {"max_builds", cfg.maxBuilds},
              {"backoff_seconds", live ? live->backoffSeconds(cfg.name) : 0.0}};
}

Json schedulerView(const Scheduler& s) {
  Json out = s.describe();
  out["name"] = s.name();
  out["type"] = s.config().type;
  out["builders"] = s.config().builders;
  if (!s.lastError().empty()) out["last_error"] = s.lastError();
  return out;
}

}  // namespace bb
