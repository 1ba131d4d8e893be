#include "master/reporters/http_push_reporter.hpp"

#include <spdlog/spdlog.h>

#include "common/interpolate.hpp"
#include "master/events/event_bus.hpp"
#include "master/reporters/http_push_message.hpp"
#include "master/reporters/reporter_counts.hpp"
#include "master/reporters/smtp_client.hpp"  // initSmtp
#include "master/secrets/secret_store.hpp"

namespace bb {

HttpPushReporter::HttpPushReporter(const ReporterEntry& cfg, ReporterServices& services)
    : cfg_(cfg), opts_(cfg_.as<HttpPushOptions>()), services_(services) {
  const auto& secrets = services_.secrets->values();
  Settings s;
  s.url = opts_.url;
  // The config loader has checked that every secret named here exists.
  if (!opts_.secret.empty()) s.key = interpolate(opts_.secret, Properties{}, &secrets);
  for (const auto& [name, value] : opts_.headers) s.headers[name] = interpolate(value, Properties{}, &secrets);
  s.timeout = opts_.timeout;
  s.tlsVerify = opts_.tlsVerify;
  settings_->set(std::move(s));
  initSmtp();  // curl_global_init, on the main thread before any worker sends
}

HttpPushReporter::~HttpPushReporter() {
  stop();
  if (queue_) queue_->finish(std::chrono::milliseconds(0));
}

void HttpPushReporter::adopt(Reporter& old) {
  auto* prev = dynamic_cast<HttpPushReporter*>(&old);
  if (!prev || !prev->queue_ || queue_) return;
  prev->stop();
  queue_ = std::move(prev->queue_);
  queue_->setLimits(opts_.maxQueued, opts_.retryInitial, opts_.retryMax);
  prev->settings_->set(settings_->get());
  settings_ = prev->settings_;
}

void HttpPushReporter::start() {
  if (!queue_) {
    DeliveryQueue::Options qo;
    qo.name = "http_push reporter '" + cfg_.name + "'";
    qo.maxQueued = opts_.maxQueued;
    qo.retryInitial = opts_.retryInitial;
    qo.retryMax = opts_.retryMax;
    queue_ = std::make_unique<DeliveryQueue>(qo);
  }
  Subscriber s;
  s.name = "http_push reporter '" + cfg_.name + "'";
  s.filter.types = opts_.events;
  services_.shareWithOtherMasters(s.filter);
  s.deliver = [this](const Event& e) {
    if (services_.reportsHere(cfg_.type + ":" + cfg_.name, e)) onEvent(e);
    return true;
  };
  s.dropped = [name = s.name](const std::string& why) {
    spdlog::error("{}: no longer hears of events: {}", name, why);
  };
  subscription_ = services_.events.subscribe(std::move(s)).id;
}

void HttpPushReporter::stop() {
  if (subscription_) services_.events.unsubscribe(subscription_);
  subscription_ = 0;
}

void HttpPushReporter::finish(std::chrono::milliseconds limit) {
  stop();
  if (queue_) queue_->finish(limit);
}

Json HttpPushReporter::describe() const {
  Json j = describeReporterQueue(cfg_, queue_.get());
  j["errors"] = errors_;
  return j;
}

// The one failure path: an event that cannot be written out is logged and
// counted; the reporter goes on with the next one.
void HttpPushReporter::onEvent(const Event& e) {
  try {
    // With builders: only the events of those builders.
    if (!opts_.builders.empty() && (e.builder.empty() || !opts_.watchesBuilder(e.builder))) return;
    const auto& master = services_.config().master;
    const std::string type(toString(e.type));
    const std::string delivery = master.name + "-" + std::to_string(e.seq);
    std::string what = type + " " + std::to_string(e.seq);
    if (!e.builder.empty()) what += " (" + e.builder + ")";
    queue_->push(what, [settings = settings_, type, delivery, body = pushBody(e, master.name, master.url)] {
      const Settings st = settings->get();
      HttpPost p = pushRequest(st.url, type, delivery, body, st.key, st.headers);
      p.timeout = st.timeout;
      p.tlsVerify = st.tlsVerify;
      return postHttp(p);
    });
  } catch (const std::exception& ex) {
    ++errors_;
    spdlog::error("http_push reporter '{}': cannot push {} {}: {}", cfg_.name, toString(e.type), e.seq, ex.what());
  }
}

}  // namespace bb
