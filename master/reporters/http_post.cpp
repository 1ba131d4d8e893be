#include "master/reporters/http_post.hpp"

#include <memory>

#include <curl/curl.h>

#include "master/reporters/smtp_client.hpp"  // initSmtp: curl_global_init once

namespace bb {

namespace {

constexpr std::size_t kKeptAnswer = 512;  // bytes of the answer's body kept for the log

std::size_t keepAnswer(char* data, std::size_t size, std::size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  const std::size_t len = size * n;
  if (out->size() < kKeptAnswer) out->append(data, std::min(len, kKeptAnswer - out->size()));
  return len;
}

std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

DeliveryResult::Kind classifyHttpStatus(long status) {
  if (status >= 200 && status < 300) return DeliveryResult::Kind::Delivered;
  if (status == 408 || status == 429 || (status >= 500 && status < 600) || status == 0)
    return DeliveryResult::Kind::Temporary;
  return DeliveryResult::Kind::Permanent;
}

DeliveryResult postHttp(const HttpPost& p) {
  initSmtp();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return DeliveryResult::temporary("curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const auto& [name, value] : p.headers) {
    const std::string line = name + ": " + value;
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (!next) {
      curl_slist_free_all(list);
      return DeliveryResult::temporary("out of memory building the request headers");
    }
    list = next;
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(list, curl_slist_free_all);
  std::string answer;
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  bool setupOk = true;
  auto set = [&](CURLcode rc) { setupOk = setupOk && rc == CURLE_OK; };
  set(curl_easy_setopt(c, CURLOPT_URL, p.url.c_str()));
  set(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"));
  set(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf));
  set(curl_easy_setopt(c, CURLOPT_POST, 1L));
  set(curl_easy_setopt(c, CURLOPT_POSTFIELDS, p.body.data()));
  set(curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(p.body.size())));
  set(curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get()));
  set(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keepAnswer));
  set(curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer));
  set(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L));
  set(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<long>(p.timeout.count(), 30))));
  set(curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(p.timeout.count())));
  if (!p.tlsVerify) {
    set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L));
    set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L));
  }
  if (!setupOk) return DeliveryResult::permanent("POST " + p.url + ": this libcurl cannot send with these settings");
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    return DeliveryResult::temporary("POST " + p.url + ": " + oneLine(why));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  const auto kind = classifyHttpStatus(status);
  if (kind == DeliveryResult::Kind::Delivered) return DeliveryResult::delivered();
  std::string why = "POST " + p.url + ": HTTP " + std::to_string(status);
  if (!answer.empty()) why += ": " + oneLine(answer);
  if (kind == DeliveryResult::Kind::Permanent && status >= 400 && status < 500)
    why += " (refused by the server; not retried: check the token, the repository and the URL)";
  return DeliveryResult{kind, why};
}

}  // namespace bb
