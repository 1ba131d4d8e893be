#pragma once
// The generic HTTP push reporter (`type: http_push`): the events it is
// told to watch (topics or single events of the event bus) go, each as
// one JSON POST (http_push_message.hpp), to a URL, signed with
// HMAC-SHA256 when a secret is named. Queued on the reporter's
// DeliveryQueue in event order; a receiver that is down gets them, in
// order, once it is back.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "master/reporters/delivery_queue.hpp"
#include "master/reporters/http_push_config.hpp"
#include "master/reporters/reporter.hpp"
#include "master/reporters/shared_settings.hpp"

namespace bb {

class HttpPushReporter : public Reporter {
 public:
  HttpPushReporter(const ReporterEntry& cfg, ReporterServices& services);
  ~HttpPushReporter() override;
  static void declareType(ReporterType& t) { t.config.parse = parseHttpPushReporter; }

  void adopt(Reporter& old) override;
  void start() override;
  void stop() override;
  void finish(std::chrono::milliseconds limit) override;
  const ReporterEntry& config() const override { return cfg_; }
  Json describe() const override;

  struct Settings {
    std::string url, key;
    std::map<std::string, std::string> headers;  // secrets filled in
    std::chrono::seconds timeout{30};
    bool tlsVerify = true;
  };

 private:
  void onEvent(const Event& e);

  ReporterEntry cfg_;
  const HttpPushOptions& opts_;
  ReporterServices services_;
  std::shared_ptr<SharedSettings<Settings>> settings_ = std::make_shared<SharedSettings<Settings>>();
  std::unique_ptr<DeliveryQueue> queue_;
  std::uint64_t subscription_ = 0;
  std::uint64_t errors_ = 0;
};

}  // namespace bb
