#pragma once
// `buildbot stats [--builder B] [--since DATE] [--steps] [--json]`: the
// master's weekly build statistics (method "stats"): pass rate, p50/p90
// durations, queue times and lock waits per builder (and per step).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

// "YYYY-MM-DD" as the UNIX time of its 00:00 UTC; nullopt if it is not a
// real date in that form.
std::optional<std::int64_t> parseStatsDate(const std::string& date);

// The table for a "stats" result: one row per builder (and step) and week.
std::string formatStats(const Json& result);

int runStats(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx);

}  // namespace bb::client
