#pragma once
// A synchronous client session with the master: connect, log in with role
// "client" (SCRAM via ClientLogin), then one Request/Response at a time.
// It runs its own io_context on the calling thread; Asio stays in the .cpp.
#include <chrono>
#include <memory>
#include <string>

#include "client/client_options.hpp"
#include "client/request_sender.hpp"

namespace bb::client {

struct MasterClientOptions {
  std::chrono::milliseconds connectTimeout{10000};  // connect + login
  std::chrono::milliseconds requestTimeout{30000};  // each request
  // TLS needs a fingerprint or a CA file; connect() fails without one.
  MasterTrust trust;
};

class MasterClient : public RequestSender {
 public:
  MasterClient(MasterAddress address, Credentials credentials, MasterClientOptions opts = {});
  ~MasterClient() override;
  MasterClient(const MasterClient&) = delete;
  MasterClient& operator=(const MasterClient&) = delete;

  // Connects (TLS unless opts.trust.tls is false) and logs in, binding the
  // SCRAM proof to the master's certificate. Throws ConnectError: "cannot
  // connect to H:P: ...", "master at H:P: refusing the master's
  // certificate: expected fingerprint ..., the master presented ...",
  // "login refused by master: CODE: MESSAGE", or a timeout.
  void connect();

  // Connects first if needed, then sends the request and waits for the
  // Response with the same id. Throws MasterError (ok:false) or
  // ConnectError ("request timed out after 30 s", connection lost).
  Json call(const std::string& method, const Json& params) override;
  // Events frames are kept as they arrive (also while call() waits), in
  // order, and handed out here.
  std::optional<Json> nextEvents(std::chrono::milliseconds timeout) override;

  // The master's name from its Welcome ("" before login).
  const std::string& masterName() const;

  // Closes the session; idempotent (the destructor calls it).
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "30 s", "0.5 s": how timeouts are written in error messages.
std::string formatSeconds(std::chrono::milliseconds d);

}  // namespace bb::client
