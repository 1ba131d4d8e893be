#include "master/reporters/reporter_counts.hpp"

#include "master/reporters/delivery_queue.hpp"

namespace bb {

Json describeReporterQueue(const ReporterEntry& cfg, const DeliveryQueue* queue) {
  DeliveryQueue::Counts c;
  if (queue) c = queue->counts();
  return Json{{"name", cfg.name},       {"type", cfg.type},         {"queued", c.queued},
              {"sent", c.delivered},    {"retries", c.retries},     {"failed", c.failed},
              {"dropped", c.dropped},   {"last_error", c.lastError}};
}

}  // namespace bb
