// The JSON view of artifacts, shared by `buildbot status --build`, REST
// and the build page.
#include <cstdio>
#include <ctime>

#include "master/db/database.hpp"
#include "master/status/views.hpp"

namespace bb {

std::string retentionRemovalText(std::int64_t at, const std::string& rule) {
  const std::time_t t = static_cast<std::time_t>(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return std::string("removed by retention at ") + when + " (" + rule + ")";
}

Json retentionRemovalView(std::int64_t at, const std::string& rule) {
  return Json{{"at", at}, {"by", rule}, {"text", retentionRemovalText(at, rule)}};
}

Json artifactView(const db::ArtifactRecord& a) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(a.mode) & 0777u);
  Json out{{"id", a.id},
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
  if (a.removedAt) out["removed"] = retentionRemovalView(a.removedAt, a.removedBy);
  return out;
}

Json artifactsView(db::Database& db, std::int64_t buildId) {
  Json out = Json::array();
  for (const auto& a : db.artifactsForBuild(buildId)) out.push_back(artifactView(a));
  return out;
}

}  // namespace bb
