#pragma once
// Everything a `buildbot` verb touches outside itself, so that unit tests can
// run verbs with fake streams, environment and master.
#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "client/client_options.hpp"
#include "client/request_sender.hpp"

namespace bb::client {

struct CliContext {
  using GetEnv = std::function<std::optional<std::string>(const char*)>;
  using Connect =
      std::function<std::unique_ptr<RequestSender>(const MasterAddress&, const Credentials&,
                                                   const MasterTrust&)>;

  GetEnv getenv;
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  Connect connect;
  // Whether the user asked to stop (Ctrl-C) a verb that waits for events
  // (watch, force --wait); checked at least every `eventSlice`.
  std::function<bool()> interrupted = [] { return false; };
  std::chrono::milliseconds eventSlice{200};
  // Asks for a password without echo (on the terminal); nullopt when
  // there is no terminal or the user gave none. May be empty (no prompt).
  std::function<std::optional<std::string>(const std::string& prompt)> readPassword;
  // How often `buildbot log --follow` asks for more of a running build.
  std::chrono::milliseconds pollInterval{500};
  // Options file; empty means $HOME/.buildbot/options.
  std::string optionsPath;
};

// The real context: process environment, std::cin/cout/cerr, MasterClient.
CliContext systemContext();

}  // namespace bb::client
