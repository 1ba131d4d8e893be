#pragma once
// The commit-status reporters (github_status, gitlab_status,
// gitea_status): each build's state goes to its commit on the forge:
// pending when it is requested (request.created), running when it
// starts (build.started), its result when it ends (build.finished), and
// cancelled when its request is (request.cancelled). The status is
// decided on the master's loop (the BuildSet's source stamp gives the
// commit and branch, its repository URL the owner/repo unless configured)
// and queued on the reporter's DeliveryQueue, whose worker POSTs it
// (http_post.hpp) and retries while the forge cannot be reached.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "master/reporters/delivery_queue.hpp"
#include "master/reporters/forge_config.hpp"
#include "master/reporters/reporter.hpp"
#include "master/reporters/shared_settings.hpp"

namespace bb {

struct Event;

class ForgeReporter : public Reporter {
 public:
  ForgeReporter(Forge forge, const ReporterEntry& cfg, ReporterServices& services);
  ~ForgeReporter() override;

  void adopt(Reporter& old) override;
  void start() override;
  void stop() override;
  void finish(std::chrono::milliseconds limit) override;
  const ReporterEntry& config() const override { return cfg_; }
  Json describe() const override;

  // What the worker sends with (a reconfig replaces it for queued items).
  struct Settings {
    std::string baseUrl, token;
    std::chrono::seconds timeout{30};
    bool tlsVerify = true;
  };

 private:
  void onEvent(const Event& e);
  // Logs and counts an update that cannot be posted (no revision, no
  // owner/repo).
  void skip(const std::string& what, const std::string& why);

  ReporterEntry cfg_;
  const ForgeOptions& opts_;
  ReporterServices services_;
  std::shared_ptr<SharedSettings<Settings>> settings_ = std::make_shared<SharedSettings<Settings>>();
  std::unique_ptr<DeliveryQueue> queue_;
  std::uint64_t subscription_ = 0;
  std::uint64_t skipped_ = 0, errors_ = 0;
  std::string lastSkip_;
};

// One registered type per forge (reporter_types.cpp).
template <Forge F>
class ForgeStatusReporter : public ForgeReporter {
 public:
  ForgeStatusReporter(const ReporterEntry& cfg, ReporterServices& services) : ForgeReporter(F, cfg, services) {}
  static void declareType(ReporterType& t) {
    t.config.parse = [](cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e) {
      return parseForgeReporter(F, r, p, e);
    };
  }
};

}  // namespace bb
