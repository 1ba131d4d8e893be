// The change source types: one line each.
#include "master/changes/brz_poller.hpp"
#include "master/changes/change_source.hpp"
#include "master/changes/git_poller.hpp"
#include "master/changes/hg_poller.hpp"
#include "master/changes/svn_poller.hpp"
#include "master/changes/webhook_source.hpp"

namespace bb {

namespace {

template <class T>
ChangeSourceType sourceType(const char* name) {
  ChangeSourceType t{
      name,
      {name, {}},
      [](const ChangeSourceEntry& e, ChangeSourceServices& s) -> std::unique_ptr<ChangeSource> {
        return std::make_unique<T>(e, s);
      },
      [](const ChangeSourceEntry&) { return std::string(); }};
  T::declareType(t);
  return t;
}

}  // namespace

const std::vector<ChangeSourceType>& changeSourceTypes() {
  static const std::vector<ChangeSourceType> types{
      sourceType<GitPoller>("git_poller"),
      sourceType<HgPoller>("hg_poller"),
      sourceType<SvnPoller>("svn_poller"),
      sourceType<BrzPoller>("brz_poller"),
      sourceType<GitHubWebhook>("github_webhook"),
      sourceType<GitLabWebhook>("gitlab_webhook"),
      sourceType<GiteaWebhook>("gitea_webhook"),
  };
  return types;
}

const ChangeSourceType* findChangeSourceType(const std::string& name) {
  for (const auto& t : changeSourceTypes())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace bb
