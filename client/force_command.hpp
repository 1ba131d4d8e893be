#pragma once
// `buildbot force`: ask a force scheduler for a buildset (method "force"),
// print its id and requests; with --wait, poll method "buildset" until it is
// complete and print each request's result.
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

struct ForceRequest {
  Json params = Json::object();
  ConnectionFlags flags;
  bool wait = false;
  bool json = false;  // print the master's answer as JSON
  bool help = false;
};

// Parses the words after "force"; --scheduler is required. Throws UsageError.
ForceRequest parseForce(const std::vector<std::string>& args);

// Whether a buildset or request result counts as a pass for the exit code.
bool isPassingResult(const std::string& result);

// Runs the verb: exit 0 when submitted (or, with --wait, when the buildset
// ended in success or warnings), 1 when it ended otherwise.
int runForce(const std::vector<std::string>& args, const ConnectionFlags& global,
             CliContext& ctx);

}  // namespace bb::client
