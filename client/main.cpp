// `buildbot`: the developer's command (sendchange, force, status).
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli.hpp"

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    bb::client::CliContext ctx = bb::client::systemContext();
    const int rc = bb::client::runCli(args, ctx);
    std::cout.flush();
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "buildbot: internal error: " << e.what() << "\n";
    return 70;
  }
}
