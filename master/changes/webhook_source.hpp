#pragma once
// A forge's webhook as a change source (types github_webhook,
// gitlab_webhook, gitea_webhook): the web server hands it each POST to
// /change_hook/NAME; it checks the forge's signature or token over the raw
// body, reads the event (forge_payloads.hpp) and stores its changes and
// the delivery id in ONE transaction, so a redelivered event (the same
// delivery id) is accepted once, also after a restart. The answer is
// always specific: 413 too large, 415 wrong content type, 401 no
// signature, 403 a wrong one, 400 undecodable or incomplete JSON, 503 the
// database refused (the forge may redeliver); 200 with the change ids, or
// with why nothing was built. Every refusal is also a log line.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "master/changes/change_source.hpp"
#include "master/changes/forge_payloads.hpp"

namespace bb {

struct WebhookRequest {
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // the raw bytes, as signed
  // For a form-encoded body (GitHub may send one): its decoded `payload`
  // field, which holds the JSON. The web server decodes it.
  std::optional<std::string> formPayload;
  std::string remote;                          // for the log
};

struct WebhookAnswer {
  int status = 200;
  Json body;  // {"error": ...} when status is not 200
};

class WebhookSource : public ChangeSource {
 public:
  // How long a delivery id is remembered (in the database) to refuse a
  // redelivery; older ones are pruned at start and every kPruneEvery
  // deliveries.
  static constexpr std::int64_t kRememberSeconds = 30 * 86400;
  static constexpr std::uint64_t kPruneEvery = 1000;
  static constexpr std::size_t kMaxDeliveryId = 200;

  WebhookSource(Forge forge, const ChangeSourceEntry& cfg, ChangeSourceServices& services);
  static void declareType(ChangeSourceType& t);

  void start() override;
  void stop() override {}
  const ChangeSourceEntry& config() const override { return cfg_; }
  // {name, type, path, signed, requests, changes, duplicates, ignored,
  //  refused, last_request_at, last_error}
  Json describe() const override;

  WebhookAnswer receive(const WebhookRequest& req);

 private:
  WebhookAnswer refuse(const WebhookRequest& req, int status, const std::string& why);
  // "" when the request's signature or token is right (or none is asked).
  std::pair<int, std::string> checkSignature(const WebhookRequest& req) const;
  std::string header(const WebhookRequest& req, std::initializer_list<const char*> names) const;
  bool branchWatched(const std::string& branch) const;
  std::vector<std::int64_t> store(std::vector<db::ChangeRecord> changes, const std::string& delivery);

  Forge forge_;
  ChangeSourceEntry cfg_;
  ChangeSourceServices& services_;
  std::string secret_;  // resolved
  std::string object_;  // "TYPE:NAME": its changes' source and its state's object
  void prune();
  std::int64_t now() const;
  std::uint64_t sincePrune_ = 0;
  std::uint64_t requests_ = 0, changes_ = 0, duplicates_ = 0, ignored_ = 0, refused_ = 0;
  std::int64_t lastRequestAt_ = 0;
  std::string lastError_;
};

struct GitHubWebhook : WebhookSource {
  GitHubWebhook(const ChangeSourceEntry& c, ChangeSourceServices& s) : WebhookSource(Forge::GitHub, c, s) {}
};
struct GitLabWebhook : WebhookSource {
  GitLabWebhook(const ChangeSourceEntry& c, ChangeSourceServices& s) : WebhookSource(Forge::GitLab, c, s) {}
};
struct GiteaWebhook : WebhookSource {
  GiteaWebhook(const ChangeSourceEntry& c, ChangeSourceServices& s) : WebhookSource(Forge::Gitea, c, s) {}
};

}  // namespace bb
