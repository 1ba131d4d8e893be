// The reporter types: one line each.
#include "master/reporters/forge_reporter.hpp"
#include "master/reporters/http_push_reporter.hpp"
#include "master/reporters/irc_reporter.hpp"
#include "master/reporters/mail_reporter.hpp"
#include "master/reporters/reporter.hpp"

namespace bb {

namespace {

template <class T>
ReporterType reporterType(const char* name) {
  ReporterType t{name,
                 {name, {}},
                 [](const ReporterEntry& e, ReporterServices& s) -> std::unique_ptr<Reporter> {
                   return std::make_unique<T>(e, s);
                 }};
  T::declareType(t);
  return t;
}

}  // namespace

const std::vector<ReporterType>& reporterTypes() {
  static const std::vector<ReporterType> types{
      reporterType<MailReporter>("mail"),
      reporterType<ForgeStatusReporter<Forge::GitHub>>("github_status"),
      reporterType<ForgeStatusReporter<Forge::GitLab>>("gitlab_status"),
      reporterType<ForgeStatusReporter<Forge::Gitea>>("gitea_status"),
      reporterType<HttpPushReporter>("http_push"),
      reporterType<IrcReporter>("irc"),
  };
  return types;
}

const ReporterType* findReporterType(const std::string& name) {
  for (const auto& t : reporterTypes())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace bb
