#pragma once
// `buildbot tryserver --jobdir DIR`: reads a try job on standard input,
// checks it reads back, writes it atomically into the maildir DIR (tmp/,
// fsync, rename into new/) and prints its job id. Run by `buildbot try
// --connect local|ssh`; the try_jobdir scheduler takes it from new/.
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

int runTryserver(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx);

// Writes `job` (its text) as DIR/new/NAME through DIR/tmp/NAME; NAME is
// the job id plus ".job". Throws ClientError-like UsageError on failure.
std::string writeJobFile(const std::string& jobdir, const std::string& jobId, const std::string& text);

}  // namespace bb::client
