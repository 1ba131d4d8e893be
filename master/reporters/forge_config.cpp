#include "master/reporters/forge_config.hpp"

#include <memory>

#include "config/yaml_util.hpp"
#include "master/reporters/mail_template.hpp"

namespace bb {

const std::vector<std::string>& forgeContextPlaceholders() {
  static const std::vector<std::string> names{"builder", "master", "scheduler", "branch", "project"};
  return names;
}

bool parseForgeReporter(Forge forge, cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e) {
  std::vector<std::string> keys{"name", "type", "base_url", "token", "repository", "context"};
  for (const auto& k : httpReporterKeys()) keys.push_back(k);
  r.allowKeys(keys);
  auto o = std::make_shared<ForgeOptions>();
  o->forge = forge;
  bool ok = readHttpReporterKeys(r, p, *o);
  const bool needsBase = defaultForgeBaseUrl(forge).empty();
  if (auto url = r.string("base_url", needsBase)) {
    if (auto bad = checkHttpUrl(*url); !bad.empty()) {
      r.error(r.markOf("base_url"), "base_url '" + *url + "' " + bad);
      ok = false;
    }
    o->baseUrl = *url;
  } else if (r.has("base_url") || needsBase) {
    ok = false;
  } else {
    o->baseUrl = std::string(defaultForgeBaseUrl(forge));
  }
  if (auto token = readSecretKey(r, p, "token", true)) o->token = *token;
  else ok = false;
  if (auto repo = r.string("repository")) {
    const auto slash = repo->find('/');
    const bool twoParts = slash != std::string::npos && slash > 0 && slash + 1 < repo->size() &&
                          repo->find('/', slash + 1) == std::string::npos;
    const bool gitlabOk = !repo->empty() && repo->front() != '/' && repo->back() != '/';
    if (forge == Forge::GitLab ? !gitlabOk : !twoParts) {
      r.error(r.markOf("repository"),
              forge == Forge::GitLab ? "repository must be the project's path (group/project) or numeric id"
                                     : "repository must be OWNER/REPO, got '" + *repo + "'");
      ok = false;
    }
    o->repository = *repo;
  } else if (r.has("repository")) {
    ok = false;
  }
  if (auto ctx = r.string("context")) {
    if (auto bad = checkTemplate(*ctx, forgeContextPlaceholders())) {
      r.error(r.markOf("context"), "context: " + *bad);
      ok = false;
    } else if (ctx->empty()) {
      r.error(r.markOf("context"), "context must not be empty");
      ok = false;
    }
    o->context = *ctx;
  } else if (r.has("context")) {
    ok = false;
  }
  e.options = std::move(o);
  return ok;
}

}  // namespace bb
