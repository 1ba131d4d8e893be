#pragma once
// One SMTP dialogue through libcurl: connect (smtp:// with optional
// STARTTLS, or smtps://), log in if asked, send one message to its
// recipients. Blocking: it runs on a DeliveryQueue's worker thread, never
// on the master's loop. Only this file includes curl.
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "master/reporters/delivery_queue.hpp"

namespace bb {

struct SmtpSettings {
  std::string url;  // smtp://host:port or smtps://host:port
  bool starttls = false;
  bool tlsVerify = true;
  std::string user, password;  // empty user: no login
  std::chrono::seconds timeout{60};
};

// The settings a reporter's queued mails are sent with, shared by its
// worker and the loop: a reconfig replaces them for mails already waiting.
class SmtpSettingsBox {
 public:
  void set(SmtpSettings s) {
    std::lock_guard lock(mutex_);
    settings_ = std::move(s);
  }
  SmtpSettings get() const {
    std::lock_guard lock(mutex_);
    return settings_;
  }

 private:
  mutable std::mutex mutex_;
  SmtpSettings settings_;
};

// Calls curl_global_init once; call it on the main thread before any
// worker thread sends (curl_global_init is not thread-safe).
void initSmtp();

// Sends `message` (CRLF lines, headers included) from `from` to `rcpt`
// (bare addresses). Delivered; Permanent when the server refused with a 5xx
// answer or the settings cannot work; Temporary otherwise (could not
// connect, timed out, 4xx), with curl's reason and the server's code.
DeliveryResult sendSmtp(const SmtpSettings& s, const std::string& from,
                        const std::vector<std::string>& rcpt, const std::string& message);

}  // namespace bb
