#include "master/reporters/http_push_message.hpp"

#include <stdexcept>

#include "common/hmac.hpp"

namespace bb {

std::string hmacSha256Hex(const std::string& key, const std::string& body) {
  return hexEncode(hmacSha256(key, body));
}

std::string pushBody(const Event& e, const std::string& master, const std::string& masterUrl) {
  return Json{{"master", master}, {"master_url", masterUrl}, {"event", toJson(e)}}.dump();
}

HttpPost pushRequest(const std::string& url, const std::string& eventType, const std::string& delivery,
                     std::string body, const std::string& key, const std::map<std::string, std::string>& extra) {
  HttpPost p;
  p.url = url;
  p.headers.emplace_back("Content-Type", "application/json");
  p.headers.emplace_back("User-Agent", "buildbot-cpp");
  p.headers.emplace_back("X-Buildbot-Event", eventType);
  p.headers.emplace_back("X-Buildbot-Delivery", delivery);
  if (!key.empty()) p.headers.emplace_back("X-Buildbot-Signature", "sha256=" + hmacSha256Hex(key, body));
  for (const auto& [name, value] : extra) p.headers.emplace_back(name, value);
  p.body = std::move(body);
  return p;
}

}  // namespace bb
