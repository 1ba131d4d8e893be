#pragma once
// `buildbot change-status ID`: what happened to one change, per scheduler
// (method "change_status"): which built it (BuildSets, requests, results),
// which still wait on it and why, and which ignored it and why.
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

// The text report for a "change_status" result.
std::string formatChangeStatus(const Json& result);

int runChangeStatus(const std::vector<std::string>& args, const ConnectionFlags& global,
                    CliContext& ctx);

}  // namespace bb::client
