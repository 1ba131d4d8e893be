#pragma once
// `buildbot status`: the latest builds of every builder (method "status"),
// or one build's steps (method "build"), optionally with its logs' text
// (method "log"). --json prints the raw results instead of tables.
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

struct StatusRequest {
  ConnectionFlags flags;
  std::optional<std::string> builder;
  std::optional<std::int64_t> build;  // with builder: one build's details
  std::optional<std::int64_t> limit;
  bool logs = false;
  bool json = false;
  bool help = false;
};

// Parses the words after "status"; --build needs --builder, --logs needs
// --build, --limit must be positive. Throws UsageError.
StatusRequest parseStatus(const std::vector<std::string>& args);

// The builds table for a "status" result (builder, #number, result, slave,
// started, duration).
std::string formatBuildsTable(const Json& statusResult);

// One build's header line and steps table for a "build" result.
std::string formatBuildDetails(const Json& buildResult);

// Runs the verb: exit 0 once the table (or JSON) is printed.
int runStatus(const std::vector<std::string>& args, const ConnectionFlags& global,
              CliContext& ctx);

}  // namespace bb::client
