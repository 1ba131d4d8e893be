// Reports claimed by one master: with several masters on one database every
// master's reporters hear of every build, and the claim makes each report go
// out once (docs/multimaster.md, "Reporters").
#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

bool Database::claimReport(const std::string& reporter, const std::string& subject, MasterId master,
                           std::int64_t now) {
  static constexpr char kClaim[] =
      "INSERT INTO report_claims (reporter, subject, master_id, claimed_at) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT (reporter, subject) DO NOTHING";
  Statement s = stmt(kClaim);
  s.bind(1, reporter).bind(2, subject).bind(3, master.value).bind(4, now).run();
  return s.changes() == 1;
}

int Database::pruneReportClaims(std::int64_t before) {
  Statement s = stmt("DELETE FROM report_claims WHERE claimed_at < ?1");
  s.bind(1, before).run();
  return s.changes();
}

}  // namespace bb::db
