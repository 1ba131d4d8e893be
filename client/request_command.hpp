#pragma once
// `buildbot cancel ID...` and `buildbot priority ID N` change pending build
// requests (methods "cancel" and "priority"); `buildbot stop-build BUILDER N`
// stops a running build (method "stop_build"). All need 'force' in the
// user's `may` list.
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

// Cancels each pending request given; exit 1 if the master refused any.
int runCancel(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx);
// Sets one incomplete request's priority (highest runs first).
int runPriority(const std::vector<std::string>& args, const ConnectionFlags& global,
                CliContext& ctx);

// Stops a running build; it ends CANCELLED with what it logged so far.
int runStopBuild(const std::vector<std::string>& args, const ConnectionFlags& global,
                 CliContext& ctx);

}  // namespace bb::client
