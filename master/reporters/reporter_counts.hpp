#pragma once
// A reporter's delivery counters as status shows them (`buildbot status`,
// `reporters`) and /metrics reads them.
#include "common/message.hpp"  // Json
#include "config/master_config.hpp"

namespace bb {

class DeliveryQueue;

// {name, type, queued, sent, retries, failed, dropped, last_error}; the
// counters are 0 when `queue` is null (not started).
Json describeReporterQueue(const ReporterEntry& cfg, const DeliveryQueue* queue);

}  // namespace bb
