#include "master/reporters/report_claims.hpp"

#include <spdlog/spdlog.h>

#include "common/event_loop.hpp"
#include "master/cluster/status_relay.hpp"
#include "master/db/database.hpp"

namespace bb {

std::string ReportClaims::subjectOf(const Event& e) {
  if (!StatusRelay::heardEverywhere(e.type)) return "";  // heard on its own master only
  std::string subject = std::string(toString(e.type)) + " " + std::to_string(StatusRelay::rowIdOf(e));
  // A log has many: each is its range's.
  if (e.type == EventType::LogLines) subject += ":" + std::to_string(e.data.value("end_byte", std::int64_t{0}));
  return subject;
}

bool ReportClaims::mine(const std::string& reporter, const Event& e) {
  const std::string subject = subjectOf(e);
  if (subject.empty()) return true;
  const std::int64_t now = wallMs(clock_) / 1000;
  try {
    if (now - lastPrune_ >= 3600) {
      lastPrune_ = now;
      if (const int gone = db_.pruneReportClaims(now - 86400))
        spdlog::info("reporters: {} report claims older than a day deleted", gone);
    }
    return db_.claimReport(reporter, subject, self_, now);
  } catch (const std::exception& ex) {
    spdlog::warn("reporter '{}': cannot claim {} in the database ({}); reporting it here, "
                 "so another master may report it too",
                 reporter, subject, ex.what());
    return true;
  }
}

}  // namespace bb
