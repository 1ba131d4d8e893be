#include "master/reporters/forge_reporter.hpp"

#include <spdlog/spdlog.h>

#include "common/interpolate.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/reporters/http_post.hpp"
#include "master/reporters/mail_composer.hpp"  // buildUrl
#include "master/reporters/mail_template.hpp"  // renderMailTemplate
#include "master/reporters/reporter_counts.hpp"
#include "master/reporters/smtp_client.hpp"    // initSmtp
#include "master/secrets/secret_store.hpp"

namespace bb {

namespace {

std::string builderUrl(const MasterSection& m, const std::string& builder) {
  std::string u = m.url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u + "/builders/" + builder;
}

std::string gotRevision(const db::BuildRecord& b) {
  auto it = b.properties.find("got_revision");
  if (it == b.properties.end() || !it->is_array() || it->empty() || !(*it)[0].is_string()) return "";
  return (*it)[0].get<std::string>();
}

}  // namespace

ForgeReporter::ForgeReporter(Forge forge, const ReporterEntry& cfg, ReporterServices& services)
    : cfg_(cfg), opts_(cfg_.as<ForgeOptions>()), services_(services) {
  (void)forge;  // the options carry it; the parameter names the type at registration
  Settings s;
  s.baseUrl = opts_.baseUrl;
  // The config loader has checked that the secret exists.
  s.token = interpolate(opts_.token, Properties{}, &services_.secrets->values());
  s.timeout = opts_.timeout;
  s.tlsVerify = opts_.tlsVerify;
  settings_->set(std::move(s));
  initSmtp();  // curl_global_init, on the main thread before any worker sends
}

ForgeReporter::~ForgeReporter() {
  stop();
  if (queue_) queue_->finish(std::chrono::milliseconds(0));
}

void ForgeReporter::adopt(Reporter& old) {
  auto* prev = dynamic_cast<ForgeReporter*>(&old);
  if (!prev || !prev->queue_ || queue_) return;
  prev->stop();
  queue_ = std::move(prev->queue_);
  queue_->setLimits(opts_.maxQueued, opts_.retryInitial, opts_.retryMax);
  prev->settings_->set(settings_->get());  // waiting statuses go out with these settings
  settings_ = prev->settings_;
}

void ForgeReporter::start() {
  if (!queue_) {
    DeliveryQueue::Options qo;
    qo.name = std::string(cfg_.type) + " reporter '" + cfg_.name + "'";
    qo.maxQueued = opts_.maxQueued;
    qo.retryInitial = opts_.retryInitial;
    qo.retryMax = opts_.retryMax;
    queue_ = std::make_unique<DeliveryQueue>(qo);
  }
  Subscriber s;
  s.name = cfg_.type + " reporter '" + cfg_.name + "'";
  s.filter.types = {EventType::RequestCreated, EventType::BuildStarted, EventType::BuildFinished,
                    EventType::RequestCancelled};
  services_.shareWithOtherMasters(s.filter);
  s.deliver = [this](const Event& e) {
    if (services_.reportsHere(cfg_.type + ":" + cfg_.name, e)) onEvent(e);
    return true;
  };
  s.dropped = [name = s.name](const std::string& why) {
    spdlog::error("{}: no longer hears of builds: {}", name, why);
  };
  subscription_ = services_.events.subscribe(std::move(s)).id;
}

void ForgeReporter::stop() {
  if (subscription_) services_.events.unsubscribe(subscription_);
  subscription_ = 0;
}

void ForgeReporter::finish(std::chrono::milliseconds limit) {
  stop();
  if (queue_) queue_->finish(limit);
}

Json ForgeReporter::describe() const {
  Json j = describeReporterQueue(cfg_, queue_.get());
  j["skipped"] = skipped_;
  j["errors"] = errors_;
  if (!lastSkip_.empty()) j["last_skipped"] = lastSkip_;
  return j;
}

void ForgeReporter::skip(const std::string& what, const std::string& why) {
  ++skipped_;
  lastSkip_ = what + ": " + why;
  spdlog::warn("{} reporter '{}': {} not posted: {}", cfg_.type, cfg_.name, what, why);
}

// The one failure path: a database error or a bug while deciding one
// status is logged and counted; the reporter goes on with the next event.
void ForgeReporter::onEvent(const Event& e) {
  try {
    if (!opts_.watchesBuilder(e.builder)) return;
    auto& db = services_.db;
    auto bs = db.getBuildset(e.buildsetId);
    if (!bs) return;
    const auto& cfg = services_.config();
    CommitStatus s;
    s.sha = bs->sourcestamp.revision;
    s.branch = bs->sourcestamp.branch;
    std::string what;
    std::optional<db::BuildRecord> b;
    if (e.buildId) {
      b = db.getBuild(e.buildId);
      if (!b) return;
      if (s.sha.empty()) s.sha = gotRevision(*b);
      s.targetUrl = buildUrl(cfg.master, b->builder, b->number);
      what = e.builder + " #" + std::to_string(b->number);
    } else {
      s.targetUrl = builderUrl(cfg.master, e.builder);
      what = e.builder + " request " + std::to_string(e.requestId);
    }
    switch (e.type) {
      case EventType::RequestCreated:
        s.phase = BuildPhase::Requested;
        s.description = "Build requested";
        break;
      case EventType::RequestCancelled:
        s.phase = BuildPhase::Cancelled;
        s.description = "Build request cancelled";
        break;
      case EventType::BuildStarted:
        s.phase = BuildPhase::Running;
        s.description = "Build #" + std::to_string(b->number) + " running on " + b->slave;
        break;
      case EventType::BuildFinished:
        s.phase = BuildPhase::Finished;
        s.result = b->result;
        s.description = "Build #" + std::to_string(b->number) + ": " + std::string(toString(b->result));
        if (!b->text.empty()) s.description += " (" + b->text + ")";
        break;
      default: return;
    }
    const auto state = forgeState(opts_.forge, s);
    if (!state) return;  // nothing the forge can take (GitLab: a RETRY)
    what = "status " + *state + " for " + what;
    if (s.sha.empty()) return skip(what, "the build has no revision (its source stamp names none)");
    std::string repo = opts_.repository;
    if (repo.empty()) {
      auto derived = forgeRepoPath(opts_.forge, bs->sourcestamp.repository);
      if (!derived)
        return skip(what, "cannot tell the repository's owner/name from '" + bs->sourcestamp.repository +
                              "'; set repository: in the reporter");
      repo = *derived;
    }
    s.context = renderMailTemplate(opts_.context, {{"builder", e.builder},
                                                   {"master", cfg.master.name},
                                                   {"scheduler", bs->scheduler},
                                                   {"branch", bs->sourcestamp.branch},
                                                   {"project", bs->sourcestamp.project}});
    what += " (" + s.sha.substr(0, 12) + ")";
    queue_->push(what, [settings = settings_, forge = opts_.forge, repo, s, state = *state] {
      const Settings st = settings->get();
      HttpPost p = forgeStatusRequest(forge, st.baseUrl, repo, st.token, s, state);
      p.timeout = st.timeout;
      p.tlsVerify = st.tlsVerify;
      return postHttp(p);
    });
  } catch (const std::exception& ex) {
    ++errors_;
    spdlog::error("{} reporter '{}': cannot report {} {}: {}", cfg_.type, cfg_.name, toString(e.type),
                  e.buildId ? e.buildId : e.requestId, ex.what());
  }
}

}  // namespace bb
