#pragma once
// The login handshake (docs/protocol.md, "Handshake") as two I/O-free state
// machines: the caller feeds each received Message to onMessage() and acts
// on the Step it returns. Slave and client use ClientLogin; the master runs
// one ServerLogin per accepted connection.
//
//   peer                          master
//   Hello {scram: client-first} ->
//                               <- AuthChallenge {version, scram: server-first}
//   AuthProof {scram: final}    ->
//                               <- Welcome {scram: v=..., settings} | Error
//
// A Heartbeat received during login is legal (the other side may be slow)
// and yields a Wait step: nothing to do.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/message.hpp"
#include "common/scram.hpp"

namespace bb {

// Error codes carried by Error {code, message}.
inline constexpr const char* kErrUnsupportedVersion = "unsupported_version";
inline constexpr const char* kErrBadHello = "bad_hello";
inline constexpr const char* kErrAuthFailed = "auth_failed";
inline constexpr const char* kErrDuplicateSlave = "duplicate_slave";
inline constexpr const char* kErrProtocol = "protocol_error";
inline constexpr const char* kErrShuttingDown = "shutting_down";
inline constexpr const char* kErrNotPermitted = "not_permitted";

// Builds an Error message {code, message}.
Message makeErrorMessage(const std::string& code, const std::string& message);

// Step::Kind, what the caller must do after one received message:
//  Send:   send `reply`; the login continues.
//  Done:   the login succeeded. ServerLogin: send `reply` (the Welcome)
//          and start the session. ClientLogin: nothing to send.
//  Failed: `error` says why (for the log). If hasReply, send `reply` (an
//          Error) before closing; then close the connection.
//  Wait:   nothing to do (a Heartbeat arrived); keep waiting.
// hasReply is true exactly when `reply` must be sent.

// The peer side (slave or client).
class ClientLogin {
 public:
  struct Step {
    enum Kind { Send, Done, Failed, Wait } kind = Wait;
    bool hasReply = false;
    Message reply;
    std::string error;
    Json welcome;  // the Welcome body when kind == Done
  };

  // role is "slave" or "client"; name is the slave or user name;
  // channelBinding is Connection::channelBinding() ("" over plain TCP).
  ClientLogin(std::string role, std::string name, std::string password,
              std::string channelBinding = "");

  // The opening Hello message. Call once, first.
  Message hello();

  // AuthChallenge -> Send AuthProof; Welcome -> Done if the master's
  // signature proves it knows our verifier, else Failed; Error -> Failed
  // ("<code>: <message>"); anything else -> Failed.
  Step onMessage(const Message& m);

  // Test hook: the SCRAM client nonce to use.
  void setNonceForTesting(std::string nonce) { scram_.setNonceForTesting(std::move(nonce)); }

 private:
  enum class State { Initial, SentHello, SentProof, Finished };
  std::string role_;
  std::string name_;
  ScramClient scram_;
  State state_ = State::Initial;
};

// The master side, one per connection.
class ServerLogin {
 public:
  // Returns the stored SCRAM verifier of (role, name), nullopt if unknown.
  using Lookup =
      std::function<std::optional<std::string>(const std::string& role, const std::string& name)>;

  struct Step {
    enum Kind { Send, Done, Failed, Wait } kind = Wait;
    bool hasReply = false;
    Message reply;
    std::string error;
    std::string role, name;  // as claimed in the Hello (once it was read)
  };

  // welcomeExtras (a map) is copied into the Welcome body: master name,
  // heartbeat_interval_ms, heartbeat_timeout_ms, max_frame.
  // channelBinding is Connection::channelBinding(): over TLS the peer must
  // bind its SCRAM proof to it (common/scram.hpp).
  ServerLogin(Lookup lookup, Json welcomeExtras, std::string channelBinding = "");

  // Hello -> Send AuthChallenge, or Failed with Error unsupported_version /
  // bad_hello; AuthProof -> Done with Welcome, or Failed with Error
  // auth_failed; an unexpected message -> Failed with Error protocol_error;
  // an Error from the peer -> Failed without reply.
  Step onMessage(const Message& m);

  // Test hook: the SCRAM server nonce suffix to use.
  void setNonceSuffixForTesting(std::string suffix) { nonceSuffix_ = std::move(suffix); }

 private:
  enum class State { WaitHello, WaitProof, Finished };
  Step fail(const std::string& code, const std::string& message);
  Step onHello(const Message& m);
  Step onProof(const Message& m);

  Lookup lookup_;
  Json welcomeExtras_;
  std::string channelBinding_;
  std::optional<ScramServer> scram_;  // created by the Hello
  std::string nonceSuffix_;           // test hook
  State state_ = State::WaitHello;
  std::string role_, name_;
};

std::string_view toString(ClientLogin::Step::Kind k);
std::string_view toString(ServerLogin::Step::Kind k);

}  // namespace bb
