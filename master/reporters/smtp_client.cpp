#include "master/reporters/smtp_client.hpp"

#include <cstring>
#include <memory>
#include <mutex>

#include <curl/curl.h>

namespace bb {

namespace {

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t readPayload(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t room = size * n;
  const std::size_t left = up->data->size() - up->offset;
  const std::size_t take = left < room ? left : room;
  std::memcpy(buf, up->data->data() + up->offset, take);
  up->offset += take;
  return take;
}

}  // namespace

void initSmtp() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

DeliveryResult sendSmtp(const SmtpSettings& s, const std::string& from,
                        const std::vector<std::string>& rcpt, const std::string& message) {
  initSmtp();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return DeliveryResult::temporary("curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const auto& r : rcpt) {
    curl_slist* next = curl_slist_append(list, r.c_str());
    if (!next) {
      curl_slist_free_all(list);
      return DeliveryResult::temporary("out of memory building the recipient list");
    }
    list = next;
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcptList(list, curl_slist_free_all);
  Upload up{&message};
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string fromArg = "<" + from + ">";
  CURL* c = curl.get();
  bool setupOk = true;
  auto set = [&](CURLcode rc) { setupOk = setupOk && rc == CURLE_OK; };
  set(curl_easy_setopt(c, CURLOPT_URL, s.url.c_str()));
  set(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf));
  set(curl_easy_setopt(c, CURLOPT_MAIL_FROM, fromArg.c_str()));
  set(curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcptList.get()));
  set(curl_easy_setopt(c, CURLOPT_READFUNCTION, readPayload));
  set(curl_easy_setopt(c, CURLOPT_READDATA, &up));
  set(curl_easy_setopt(c, CURLOPT_UPLOAD, 1L));
  set(curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size())));
  set(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<long>(s.timeout.count(), 30))));
  set(curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(s.timeout.count())));
  if (s.starttls) set(curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL)));
  if (!s.tlsVerify) {
    set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L));
    set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L));
  }
  if (!s.user.empty()) {
    set(curl_easy_setopt(c, CURLOPT_USERNAME, s.user.c_str()));
    set(curl_easy_setopt(c, CURLOPT_PASSWORD, s.password.c_str()));
  }
  if (!setupOk) return DeliveryResult::permanent("this libcurl cannot send mail with these settings");
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return DeliveryResult::delivered();
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
  if (code) why += " (server answered " + std::to_string(code) + ")";
  why = "SMTP to " + s.url + ": " + why;
  // A 5xx answer will not change by trying again; a refused login or an
  // unsupported STARTTLS may be fixed by the admin, so those are retried.
  if (code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED && rc != CURLE_USE_SSL_FAILED)
    return DeliveryResult::permanent(why);
  return DeliveryResult::temporary(why);
}

}  // namespace bb
