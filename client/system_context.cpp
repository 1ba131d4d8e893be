#include <csignal>
#include <cstdlib>
#include <iostream>

#include "client/cli_context.hpp"
#include "client/master_client.hpp"

namespace bb::client {

namespace {
volatile std::sig_atomic_t gInterrupted = 0;
extern "C" void onSigint(int) { gInterrupted = 1; }
}  // namespace

CliContext systemContext() {
  CliContext ctx;
  ctx.getenv = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  ctx.in = &std::cin;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  // Verbs that wait for events stop cleanly on Ctrl-C: the handler is
  // installed when a verb first asks, so every other verb keeps the
  // default (die at once).
  ctx.interrupted = [] {
    static const bool installed = [] {
      struct sigaction sa {};
      sa.sa_handler = onSigint;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGINT, &sa, nullptr);
      return true;
    }();
    (void)installed;
    return gInterrupted != 0;
  };
  ctx.connect = [](const MasterAddress& address, const Credentials& creds) {
    auto client = std::make_unique<MasterClient>(address, creds);
    client->connect();  // fail early with exit 3, before any output
    return std::unique_ptr<RequestSender>(std::move(client));
  };
  return ctx;
}

}  // namespace bb::client
