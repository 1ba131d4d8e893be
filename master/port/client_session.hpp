#pragma once
// One logged-in `buildbot` client connection: decodes each Request frame,
// makes one call into the RpcHandler, and encodes the Response. A request
// that throws gets an error Response; a frame that breaks the protocol
// closes the connection with the reason logged.
#include <memory>
#include <string>

#include "common/connection.hpp"

namespace bb {

class RpcHandler;

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(std::shared_ptr<Connection> conn, std::string user, RpcHandler& rpc);

  // Starts reading requests; `onClosed` runs once when the connection ends.
  void start(std::function<void(ClientSession&)> onClosed);
  // Sends an Error frame and closes (shutdown).
  void close(const std::string& code, const std::string& message);
  const std::string& user() const { return user_; }

 private:
  void onMessage(Message&& msg);
  // The one failure path: logs why and closes the connection.
  void fail(const std::string& code, const std::string& why);

  std::shared_ptr<Connection> conn_;
  std::string user_;
  std::string peer_;
  RpcHandler& rpc_;
};

}  // namespace bb
