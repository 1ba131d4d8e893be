#pragma once
// The `buildbot` command line: global options, then a verb and its options.
//   buildbot [--master HOST:PORT] [--auth USER:PASSWORD] VERB [options]
// Verbs: sendchange, force, status. Exit codes: 0 ok, 1 the master answered
// with an error, 2 usage error, 3 connection or login failure.
#include <string>
#include <vector>

#include "client/cli_context.hpp"

namespace bb::client {

// Runs the command line `args` (without the program name). Every error is
// reported on ctx.err; the return value is the exit code.
int runCli(const std::vector<std::string>& args, CliContext& ctx);

// The top-level usage text.
std::string topLevelUsage();

}  // namespace bb::client
