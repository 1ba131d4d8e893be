#include <cstdlib>
#include <iostream>

#include "client/cli_context.hpp"
#include "client/master_client.hpp"

namespace bb::client {

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
  ctx.connect = [](const MasterAddress& address, const Credentials& creds) {
    auto client = std::make_unique<MasterClient>(address, creds);
    client->connect();  // fail early with exit 3, before any output
    return std::unique_ptr<RequestSender>(std::move(client));
  };
  return ctx;
}

}  // namespace bb::client
