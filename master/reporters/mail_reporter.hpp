#pragma once
// The mail reporter: watches build.finished (or buildset.completed with
// `buildsets: true`) on the event bus, decides on the master's loop
// whether the build is mailed (mail_decision.hpp), writes the mail
// (mail_composer.hpp) and queues it on its DeliveryQueue, whose worker
// sends it through libcurl's SMTP (smtp_client.hpp) and retries while the
// server is down. docs/notifiers.md describes the settings.
#include <cstdint>
#include <memory>

#include "master/reporters/delivery_queue.hpp"
#include "master/reporters/mail_config.hpp"
#include "master/reporters/reporter.hpp"
#include "master/reporters/smtp_client.hpp"

namespace bb {

struct ComposedMail;
struct Event;

class MailReporter : public Reporter {
 public:
  MailReporter(const ReporterEntry& cfg, ReporterServices& services);
  ~MailReporter() override;
  static void declareType(ReporterType& t);

  void adopt(Reporter& old) override;
  void start() override;
  void stop() override;
  void finish(std::chrono::milliseconds limit) override;
  const ReporterEntry& config() const override { return cfg_; }
  Json describe() const override;

 private:
  void onEvent(const Event& e);
  void onBuildFinished(const Event& e);
  void onBuildsetCompleted(const Event& e);
  bool watchesScheduler(const std::string& scheduler) const;
  bool watchesBuilder(const std::string& builder) const;

  ReporterEntry cfg_;
  const MailOptions& opts_;
  ReporterServices services_;
  void send(const ComposedMail& mail);

  std::shared_ptr<SmtpSettingsBox> smtp_ = std::make_shared<SmtpSettingsBox>();
  std::unique_ptr<DeliveryQueue> queue_;
  std::uint64_t subscription_ = 0;
  std::uint64_t composeErrors_ = 0;
};

}  // namespace bb
