#pragma once
// `buildbot watch [--builder B] [--change ID] [--topic T]... [--json]`:
// subscribes to the master's events and prints each one as it happens,
// one line each (or one JSON object a line), until Ctrl-C.
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

int runWatch(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx);

// Reads Events frames from `sender` for subscription `id` and gives each
// event to `onEvent` until it returns false (returns kExitOk), the user
// interrupts (kExitOk, `*interrupted` set), or the master drops the
// subscription (throws MasterError "dropped" with the reason).
int followEvents(RequestSender& sender, std::int64_t id, CliContext& ctx,
                 const std::function<bool(const Json&)>& onEvent, bool* interrupted = nullptr);

}  // namespace bb::client
