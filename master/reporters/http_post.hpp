#pragma once
// One HTTP POST through libcurl, for the reporters that talk HTTP (commit
// status to forges, the generic HTTP push). Blocking: it runs on a
// DeliveryQueue's worker thread, never on the master's loop. Only this
// file (and smtp_client.cpp) includes curl.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "master/reporters/delivery_queue.hpp"

namespace bb {

struct HttpPost {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string body;
  std::chrono::seconds timeout{30};  // the whole exchange, connecting included
  bool tlsVerify = true;
};

// How an answer is taken: 2xx is delivered; 408, 429 and 5xx (and no
// answer at all: refused, timed out, TLS failed) are temporary, tried
// again; any other status (a 4xx: bad token, unknown repository, a body
// the server refuses; a 3xx, which is not followed) is permanent, since
// sending the same request again cannot change it.
DeliveryResult::Kind classifyHttpStatus(long status);

// Posts `p`. The result's error names the URL, the status and the start
// of the answer's body (which is where forges say what is wrong).
DeliveryResult postHttp(const HttpPost& p);

}  // namespace bb
