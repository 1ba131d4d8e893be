#pragma once
// `buildbot sendchange`: announce a Change to the master (method
// "sendchange") and print "change sent successfully (change N)".
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

// The request parameters a sendchange command line describes.
struct SendchangeRequest {
  Json params = Json::object();
  ConnectionFlags flags;
  bool help = false;
};

// Parses the words after "sendchange". Reads the comments from --logfile
// (or ctx.in for '-'). Throws UsageError for bad or conflicting options.
SendchangeRequest parseSendchange(const std::vector<std::string>& args, CliContext& ctx);

// Runs the verb; returns the exit code or throws a client error.
int runSendchange(const std::vector<std::string>& args, const ConnectionFlags& global,
                  CliContext& ctx);

}  // namespace bb::client
