#pragma once
// `buildbot stop-slave NAME [--reason TEXT]`: a graceful stop of a slave
// asked at the master (method "stop_slave", the same as the web's stop
// button): the slave takes no new builds, finishes the ones it runs, then
// is told to exit. Needs 'stop_slave' in the user's `may` list.
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

int runStopSlave(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx);

}  // namespace bb::client
