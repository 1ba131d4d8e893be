#include "master/reporters/mail_reporter.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/interpolate.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/reporters/mail_composer.hpp"
#include "master/reporters/mail_address.hpp"
#include "master/reporters/mail_decision.hpp"
#include "master/secrets/secret_store.hpp"

namespace bb {

void MailReporter::declareType(ReporterType& t) { t.config.parse = parseMailReporter; }

MailReporter::MailReporter(const ReporterEntry& cfg, ReporterServices& services)
    : cfg_(cfg), opts_(cfg_.as<MailOptions>()), services_(services) {
  SmtpSettings smtp;
  smtp.url = opts_.smtpUrl;
  smtp.starttls = opts_.starttls;
  smtp.tlsVerify = opts_.tlsVerify;
  smtp.user = opts_.user;
  smtp.timeout = opts_.timeout;
  // The config loader has checked that every secret named here exists.
  if (!opts_.password.empty())
    smtp.password = interpolate(opts_.password, Properties{}, &services_.secrets->values());
  smtp_->set(std::move(smtp));
  initSmtp();  // here, on the main thread, before any worker sends
}

MailReporter::~MailReporter() {
  stop();
  if (queue_) queue_->finish(std::chrono::milliseconds(0));
}

void MailReporter::adopt(Reporter& old) {
  auto* prev = dynamic_cast<MailReporter*>(&old);
  if (!prev || !prev->queue_ || queue_) return;
  prev->stop();
  queue_ = std::move(prev->queue_);
  queue_->setLimits(opts_.maxQueued, opts_.retryInitial, opts_.retryMax);
  prev->smtp_->set(smtp_->get());  // the waiting mails go out with these settings
  smtp_ = prev->smtp_;
}

void MailReporter::send(const ComposedMail& mail) {
  queue_->push(mail.what, [smtp = smtp_, from = *mailAddress(opts_.from), to = mail.envelopeTo,
                           text = renderMail(mail.message, makeBoundary())] {
    return sendSmtp(smtp->get(), from, to, text);
  });
}

void MailReporter::start() {
  if (!queue_) {
    DeliveryQueue::Options qo;
    qo.name = "mail reporter '" + cfg_.name + "'";
    qo.maxQueued = opts_.maxQueued;
    qo.retryInitial = opts_.retryInitial;
    qo.retryMax = opts_.retryMax;
    queue_ = std::make_unique<DeliveryQueue>(qo);
  }
  Subscriber s;
  s.name = "mail reporter '" + cfg_.name + "'";
  s.filter.types = {opts_.buildsets ? EventType::BuildsetCompleted : EventType::BuildFinished};
  services_.shareWithOtherMasters(s.filter);
  s.deliver = [this](const Event& e) {
    if (services_.reportsHere(cfg_.type + ":" + cfg_.name, e)) onEvent(e);
    return true;
  };
  s.dropped = [name = cfg_.name](const std::string& why) {
    spdlog::error("mail reporter '{}': no longer hears of builds: {}", name, why);
  };
  subscription_ = services_.events.subscribe(std::move(s)).id;
}

void MailReporter::stop() {
  if (subscription_) services_.events.unsubscribe(subscription_);
  subscription_ = 0;
}

void MailReporter::finish(std::chrono::milliseconds limit) {
  stop();
  if (queue_) queue_->finish(limit);
}

Json MailReporter::describe() const {
  Json j{{"name", cfg_.name}, {"type", cfg_.type}, {"compose_errors", composeErrors_}};
  if (queue_) {
    const auto c = queue_->counts();
    j["queued"] = c.queued;
    j["sent"] = c.delivered;
    j["failed"] = c.failed;
    j["dropped"] = c.dropped;
    j["retries"] = c.retries;
    j["last_error"] = c.lastError;
  }
  return j;
}

// The one failure path of composing: a database error or a bug while
// writing one mail is logged and counted; the reporter goes on with the
// next event, and the bus never sees the throw.
void MailReporter::onEvent(const Event& e) {
  try {
    if (e.type == EventType::BuildFinished) onBuildFinished(e);
    else if (e.type == EventType::BuildsetCompleted) onBuildsetCompleted(e);
  } catch (const std::exception& ex) {
    ++composeErrors_;
    spdlog::error("mail reporter '{}': cannot write the mail for {} {}: {}", cfg_.name, toString(e.type),
                  e.type == EventType::BuildFinished ? e.buildId : e.buildsetId, ex.what());
  }
}

bool MailReporter::watchesBuilder(const std::string& builder) const {
  return std::find(opts_.builders.begin(), opts_.builders.end(), builder) != opts_.builders.end();
}

bool MailReporter::watchesScheduler(const std::string& scheduler) const {
  return std::find(opts_.schedulers.begin(), opts_.schedulers.end(), scheduler) != opts_.schedulers.end();
}

void MailReporter::onBuildFinished(const Event& e) {
  auto& db = services_.db;
  auto b = db.getBuild(e.buildId);
  if (!b || !b->finished) return;
  bool watched = opts_.builders.empty() && opts_.schedulers.empty();
  watched = watched || watchesBuilder(b->builder);
  if (!watched && !opts_.schedulers.empty() && e.buildsetId) {
    if (auto bs = db.getBuildset(e.buildsetId)) watched = watchesScheduler(bs->scheduler);
  }
  if (!watched) return;
  if (!mailWanted(opts_.modes, b->result, previousResult(db, *b))) return;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       services_.clock.wallNow().time_since_epoch()).count();
  auto mail = composeBuildMail(db, opts_, services_.config(), *services_.secrets, *b, now);
  if (!mail) {
    spdlog::info("mail reporter '{}': {} #{} has no recipient; no mail", cfg_.name, b->builder, b->number);
    return;
  }
  send(*mail);
}

void MailReporter::onBuildsetCompleted(const Event& e) {
  auto& db = services_.db;
  auto bs = db.getBuildset(e.buildsetId);
  if (!bs) return;
  if (!opts_.schedulers.empty() && !watchesScheduler(bs->scheduler)) return;
  std::vector<db::BuildRecord> builds;
  bool anyWatchedBuilder = opts_.builders.empty();
  for (const auto& r : db.requestsForBuildset(bs->id)) {
    anyWatchedBuilder = anyWatchedBuilder || watchesBuilder(r.builder);
    auto bl = db.buildsForRequest(r.id);
    if (!bl.empty()) builds.push_back(bl.back());
  }
  if (!anyWatchedBuilder) return;
  // The BuildSet's own result decides every mode but problem and change,
  // which look at each build against its builder's previous one.
  bool wanted = false;
  for (MailMode m : opts_.modes) {
    if (m == MailMode::Problem || m == MailMode::Change) {
      for (const auto& b : builds)
        wanted = wanted || (b.finished && mailWanted({m}, b.result, previousResult(db, b)));
    } else {
      wanted = wanted || mailWanted({m}, bs->result, std::nullopt);
    }
  }
  if (!wanted) return;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       services_.clock.wallNow().time_since_epoch()).count();
  auto mail = composeBuildsetMail(db, opts_, services_.config(), *services_.secrets, *bs, builds, now);
  if (!mail) {
    spdlog::info("mail reporter '{}': BuildSet {} has no recipient; no mail", cfg_.name, bs->id);
    return;
  }
  send(*mail);
}

}  // namespace bb
