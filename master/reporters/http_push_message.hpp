#pragma once
// What the HTTP push sends for one event: a JSON body (the event as
// clients get it, with the master's name and URL) and its headers,
// X-Buildbot-Signature: sha256=HEX (HMAC-SHA256 of the body with the
// secret) among them. Pure functions, unit-tested.
#include <map>
#include <string>

#include "master/events/event.hpp"
#include "master/reporters/http_post.hpp"

namespace bb {

// Lower-case hex HMAC-SHA256 of `body` keyed with `key`.
std::string hmacSha256Hex(const std::string& key, const std::string& body);

// {"master": NAME, "master_url": URL, "event": toJson(e)}.
std::string pushBody(const Event& e, const std::string& master, const std::string& masterUrl);

// The POST of `body` to `url`: Content-Type, User-Agent,
// X-Buildbot-Event (`eventType`), X-Buildbot-Delivery (`delivery`:
// MASTER-SEQ), X-Buildbot-Signature when `key` is not empty, then `extra`.
HttpPost pushRequest(const std::string& url, const std::string& eventType, const std::string& delivery,
                     std::string body, const std::string& key, const std::map<std::string, std::string>& extra);

}  // namespace bb
