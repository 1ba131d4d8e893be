// The JSON view of artifacts, shared by `buildbot status --build`, REST
// and the build page.
#include <cstdio>

#include "master/db/database.hpp"
#include "master/status/views.hpp"

namespace bb {

Json artifactView(const db::ArtifactRecord& a) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(a.mode) & 0777u);
  return Json{{"id", a.id},
              {"build_id", a.buildId},
              {"builder", a.builder},
              {"number", a.number},
              {"name", a.name},
              {"kind", a.kind},
              {"size", a.size},
              {"sha256", a.sha256},
              {"mode", mode},
              {"created_at", a.createdAt},
              {"url", "api/v2/builds/" + std::to_string(a.buildId) + "/artifacts/" + a.name}};
}

Json artifactsView(db::Database& db, std::int64_t buildId) {
  Json out = Json::array();
  for (const auto& a : db.artifactsForBuild(buildId)) out.push_back(artifactView(a));
  return out;
}

}  // namespace bb
