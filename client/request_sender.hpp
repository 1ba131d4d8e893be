#pragma once
// What a CLI verb needs from the master: one call per request. MasterClient
// is the real implementation; unit tests pass a fake.
#include <chrono>
#include <optional>
#include <string>

#include "common/message.hpp"  // Json

namespace bb::client {

class RequestSender {
 public:
  virtual ~RequestSender() = default;
  // Sends Request{method, params} and returns the Response's result.
  // Throws MasterError for ok:false and ConnectError for connection,
  // login or timeout failures.
  virtual Json call(const std::string& method, const Json& params) = 0;
  // The next Events frame the master pushed for a subscription
  // ({subscription_id, events: [...], dropped?}), waiting up to `timeout`;
  // nullopt if none came in time. Throws ConnectError if the connection is
  // lost.
  virtual std::optional<Json> nextEvents(std::chrono::milliseconds timeout) = 0;
};

}  // namespace bb::client
