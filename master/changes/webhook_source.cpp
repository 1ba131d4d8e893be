#include "master/changes/webhook_source.hpp"

#include <fnmatch.h>

#include <chrono>

#include <spdlog/spdlog.h>

#include "common/hmac.hpp"
#include "common/interpolate.hpp"
#include "config/yaml_util.hpp"
#include "master/changes/change_bus.hpp"
#include "master/db/database.hpp"
#include "master/db/db_error.hpp"
#include "master/secrets/secret_store.hpp"

namespace bb {

namespace {

bool parseWebhook(cfg::MapReader& r, cfg::MasterParse& p, ChangeSourceEntry& c) {
  r.allowKeys({"name", "type", "secret", "branches", "project", "category", "max_body"});
  bool ok = true;
  if (auto s = r.string("secret")) {
    if (s->empty()) {
      r.error(r.markOf("secret"), "secret must not be empty; leave it out to accept unsigned requests");
      ok = false;
    } else {
      cfg::checkSecretInterpolation(r, p, r.markOf("secret"), "secret", *s);
      c.secret = *s;
    }
  }
  if (auto b = r.stringList("branches")) c.branches = *b;
  if (auto s = r.string("project")) c.project = *s;
  if (auto s = r.string("category")) c.category = *s;
  if (auto n = r.integer("max_body", 1024, 64LL * 1024 * 1024)) c.maxBody = static_cast<std::size_t>(*n);
  return ok;
}

}  // namespace

void WebhookSource::declareType(ChangeSourceType& t) { t.config.parse = parseWebhook; }

WebhookSource::WebhookSource(Forge forge, const ChangeSourceEntry& cfg, ChangeSourceServices& services)
    : forge_(forge), cfg_(cfg), services_(services), object_(cfg.type + ":" + cfg.name) {
  // The config loader has checked that every secret named here exists.
  if (!cfg_.secret.empty()) {
    static const SecretValues none;
    secret_ = interpolate(cfg_.secret, Properties{}, services_.secrets ? &services_.secrets->values() : &none);
  }
}

std::int64_t WebhookSource::now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(services_.clock.wallNow().time_since_epoch()).count();
}

void WebhookSource::start() {
  prune();
  spdlog::info("{} {}: accepting POST /change_hook/{} ({})", cfg_.type, cfg_.name, cfg_.name,
               secret_.empty() ? "UNSIGNED: no secret is configured" : "signed");
}

void WebhookSource::prune() {
  // Delivery ids older than kRememberSeconds are forgotten.
  auto& db = services_.db;
  const std::int64_t cutoff = now() - kRememberSeconds;
  std::size_t pruned = 0;
  db.transaction([&] {
    for (const auto& [key, at] : db.statesWithPrefix(object_, "delivery:"))
      if (!at.is_number_integer() || at.get<std::int64_t>() < cutoff) {
        db.deleteState(object_, key);
        ++pruned;
      }
  });
  sincePrune_ = 0;
  if (pruned > 0) spdlog::info("{} {}: forgot {} delivery id(s) older than 30 days", cfg_.type, cfg_.name, pruned);
}

Json WebhookSource::describe() const {
  Json out{{"name", cfg_.name},         {"type", cfg_.type},       {"path", "/change_hook/" + cfg_.name},
           {"signed", !secret_.empty()}, {"requests", requests_},   {"changes", changes_},
           {"duplicates", duplicates_},  {"ignored", ignored_},     {"refused", refused_}};
  if (lastRequestAt_ != 0) out["last_request_at"] = lastRequestAt_;
  if (!lastError_.empty()) out["last_error"] = lastError_;
  return out;
}

WebhookAnswer WebhookSource::refuse(const WebhookRequest& req, int status, const std::string& why) {
  ++refused_;
  lastError_ = why;
  spdlog::warn("{} {}: refused a request from {} ({}): {}", cfg_.type, cfg_.name, req.remote, status, why);
  return {status, Json{{"error", why}, {"code", status}}};
}

std::string WebhookSource::header(const WebhookRequest& req, std::initializer_list<const char*> names) const {
  for (const char* n : names) {
    auto it = req.headers.find(n);
    if (it != req.headers.end()) return it->second;
  }
  return "";
}

std::pair<int, std::string> WebhookSource::checkSignature(const WebhookRequest& req) const {
  if (secret_.empty()) return {0, ""};
  if (forge_ == Forge::GitLab) {
    const std::string token = header(req, {"x-gitlab-token"});
    if (token.empty()) return {401, "X-Gitlab-Token is missing; this hook has a secret token"};
    if (!constantTimeEqual(token, secret_)) return {403, "X-Gitlab-Token does not match this hook's secret token"};
    return {0, ""};
  }
  // GitHub: X-Hub-Signature-256: sha256=HEX. Gitea and Forgejo: their own
  // header with the bare hex (they send X-Hub-Signature-256 as well).
  std::string sig = forge_ == Forge::Gitea ? header(req, {"x-gitea-signature", "x-forgejo-signature"}) : "";
  const char* name = forge_ == Forge::Gitea ? "X-Gitea-Signature" : "X-Hub-Signature-256";
  if (sig.empty()) {
    sig = header(req, {"x-hub-signature-256"});
    if (!sig.empty()) {
      if (sig.rfind("sha256=", 0) != 0) return {403, "X-Hub-Signature-256 must be 'sha256=' and the hex digest"};
      sig = sig.substr(7);
    }
  }
  if (sig.empty()) return {401, std::string(name) + " is missing; this hook has a secret"};
  const std::string expected = hexEncode(hmacSha256(secret_, req.body));
  std::string lower = sig;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!constantTimeEqual(lower, expected))
    return {403, std::string(name) + " does not match the body (wrong secret, or the body was altered)"};
  return {0, ""};
}

bool WebhookSource::branchWatched(const std::string& branch) const {
  if (cfg_.branches.empty()) return true;
  for (const auto& pattern : cfg_.branches)
    if (fnmatch(pattern.c_str(), branch.c_str(), 0) == 0) return true;
  return false;
}

WebhookAnswer WebhookSource::receive(const WebhookRequest& req) {
  ++requests_;
  lastRequestAt_ = now();
  if (req.body.size() > cfg_.maxBody)
    return refuse(req, 413, "the body is " + std::to_string(req.body.size()) + " bytes; this hook takes at most " +
                                std::to_string(cfg_.maxBody) + " (max_body)");
  const std::string type = header(req, {"content-type"});
  const bool json = type.rfind("application/json", 0) == 0;
  const bool form = forge_ == Forge::GitHub && type.rfind("application/x-www-form-urlencoded", 0) == 0;
  if (!json && !form)
    return refuse(req, 415,
                  "the content type must be application/json" +
                      std::string(forge_ == Forge::GitHub ? " or application/x-www-form-urlencoded" : "") + ", got '" +
                      type + "'");
  if (auto [status, why] = checkSignature(req); status != 0) return refuse(req, status, why);

  const char* eventHeader = forge_ == Forge::GitHub   ? "X-GitHub-Event"
                            : forge_ == Forge::GitLab ? "X-Gitlab-Event"
                                                      : "X-Gitea-Event";
  const std::string event = forge_ == Forge::GitHub   ? header(req, {"x-github-event"})
                            : forge_ == Forge::GitLab ? header(req, {"x-gitlab-event"})
                                                      : header(req, {"x-gitea-event", "x-forgejo-event", "x-github-event"});
  if (event.empty()) return refuse(req, 400, std::string(eventHeader) + " is missing: which event is this?");
  const std::string delivery = forge_ == Forge::GitHub   ? header(req, {"x-github-delivery"})
                               : forge_ == Forge::GitLab ? header(req, {"x-gitlab-event-uuid", "idempotency-key"})
                                                         : header(req, {"x-gitea-delivery", "x-forgejo-delivery"});
  ForgeEvent ev;
  try {
    if (form && !req.formPayload) return refuse(req, 400, "a form-encoded hook must have a 'payload' field");
    const Json payload = Json::parse(form ? *req.formPayload : req.body);
    ev = readForgeEvent(forge_, event, payload);
  } catch (const Json::parse_error& e) {
    return refuse(req, 400, "the body is not JSON: " + std::string(e.what()));
  } catch (const std::exception& e) {
    return refuse(req, 400, "the " + event + " event is not as " + cfg_.type + " expects: " + e.what());
  }
  if (ev.ping) {
    spdlog::info("{} {}: ping from {}", cfg_.type, cfg_.name, req.remote);
    return {200, Json{{"pong", true}}};
  }
  std::vector<db::ChangeRecord> kept;
  for (auto& c : ev.changes)
    if (branchWatched(c.branch)) kept.push_back(std::move(c));
  if (kept.empty() && ev.ignored.empty())
    ev.ignored = "branch '" + ev.changes.front().branch + "' is not among this hook's branches";
  if (kept.empty()) {
    ++ignored_;
    spdlog::info("{} {}: {} event from {} builds nothing: {}", cfg_.type, cfg_.name, event, req.remote, ev.ignored);
    return {200, Json{{"ignored", ev.ignored}}};
  }
  if (delivery.size() > kMaxDeliveryId)
    return refuse(req, 400, "the delivery id is longer than " + std::to_string(kMaxDeliveryId) + " bytes");
  if (!delivery.empty() && services_.db.getState(object_, "delivery:" + delivery)) {
    ++duplicates_;
    spdlog::info("{} {}: delivery {} was accepted before; not stored again", cfg_.type, cfg_.name, delivery);
    return {200, Json{{"duplicate", true}, {"delivery", delivery}}};
  }
  try {
    const auto ids = store(std::move(kept), delivery);
    Json out{{"change_ids", ids}};
    if (!delivery.empty()) out["delivery"] = delivery;
    return {200, out};
  } catch (const DbError& e) {
    return refuse(req, 503, "the change could not be stored (" + std::string(e.what()) +
                                "); nothing was kept, the forge may redeliver");
  }
}

std::vector<std::int64_t> WebhookSource::store(std::vector<db::ChangeRecord> changes, const std::string& delivery) {
  auto& db = services_.db;
  std::vector<std::int64_t> ids;
  db.transaction([&] {
    for (auto& c : changes) {
      c.source = object_;
      if (!cfg_.project.empty()) c.project = cfg_.project;
      if (!cfg_.category.empty()) c.category = cfg_.category;
      else if (c.category.empty()) c.category = c.properties.value("event", "");
      ids.push_back(services_.bus.addChange(std::move(c)));
    }
    if (!delivery.empty()) db.setState(object_, "delivery:" + delivery, now());
  });
  changes_ += ids.size();
  if (++sincePrune_ >= kPruneEvery) {
    try {
      prune();
    } catch (const DbError& e) {
      spdlog::warn("{} {}: could not forget old delivery ids: {}", cfg_.type, cfg_.name, e.what());
    }
  }
  return ids;
}

}  // namespace bb
