#pragma once
// `buildbot log BUILDER NUMBER [STEP] [--log NAME] [--follow]`: prints a
// build's logs (all steps, or one step by number or name), page by page
// with the paged "log" method, so a log of any size streams through
// without being held whole. With --follow it keeps reading a running
// build: each log until it is finished, then the next, until the build
// has finished.
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

// Runs the verb. One log is printed raw (its bytes, as stored); several
// get a "----- step N NAME, log L -----" line before each. Exit 0, or 1
// when the master answers with an error (no such build, step or log).
int runLog(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx);

}  // namespace bb::client
