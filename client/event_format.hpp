#pragma once
// One readable line per event pushed by the master (`buildbot watch`,
// `force --wait`): the time, the event type and what it is about, e.g.
//   14:03:07.120 build.finished   b1 #3: success (build success)
// Unknown types and missing fields print what there is, never throw.
#include <string>

#include "common/message.hpp"  // Json

namespace bb::client {

// The line for one event object ({seq, type, time_ms, keys..., data}),
// without a newline. Times are shown in local time.
std::string formatEvent(const Json& event);

}  // namespace bb::client
