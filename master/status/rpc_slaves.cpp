// The client protocol's slave control (docs/protocol.md §7): stop_slave,
// a graceful stop asked at the master (the web's POST workers/NAME
// {"method": "stop"} comes here).
#include "master/slaves/slave_registry.hpp"
#include "master/status/rpc_handler.hpp"

namespace bb {

namespace {

// Reasons are logged and sent to the slave: one line, bounded.
constexpr std::size_t kMaxReasonBytes = 500;

std::string slaveText(const Json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return "";
  if (!it->is_string()) throw RpcError("bad_request", std::string(key) + " must be a string");
  return it->get<std::string>();
}

}  // namespace

Json RpcHandler::stopSlave(const std::string& user, const Json& p) {
  const std::string name = slaveText(p, "slave");
  if (name.empty()) throw RpcError("bad_request", "slave is required (the slave to stop)");
  std::string reason = slaveText(p, "reason");
  if (reason.size() > kMaxReasonBytes)
    throw RpcError("bad_request", "reason is " + std::to_string(reason.size()) + " bytes; at most " +
                                      std::to_string(kMaxReasonBytes) + " are allowed");
  for (unsigned char c : reason)
    if (c < 0x20 || c == 0x7f) throw RpcError("bad_request", "reason must be one line without control characters");
  if (!config_().findSlave(name)) throw RpcError("not_found", "no slave named '" + name + "'");
  reason = "stopped by " + user + (reason.empty() ? "" : ": " + reason);
  if (!slaves_ || !slaves_->stopGracefully(name, reason))
    throw RpcError("rejected", "slave '" + name + "' is not connected; there is nothing to stop");
  return Json{{"slave", name}, {"state", "draining"}, {"builds", slaves_->runningBuilds(name)}};
}

}  // namespace bb
