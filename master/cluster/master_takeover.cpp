#include "master/cluster/master_takeover.hpp"

#include "master/db/database.hpp"

namespace bb {

TakenOver takeOverWorkOf(db::Database& db, db::MasterId master, std::int64_t now,
                         const std::string& why, bool releaseSchedulers) {
  TakenOver done;
  for (const auto& b : db.unfinishedBuildsOf(master)) {
    for (const auto& s : db.stepsForBuild(b.id)) {
      for (const auto& l : db.logsForStep(s.id))
        if (!l.finished) db.finishLog(l.id);
      if (!s.finished) db.finishStep(s.id, Result::Retry, why, now);
    }
    db.finishBuild(b.id, Result::Retry, why + "; the request will run again", now);
    ++done.builds;
  }
  done.requests = db.unclaimRequestsOf(master);
  done.locks = db.releaseLockHoldsOf(master);
  if (releaseSchedulers) done.schedulers = db.releaseSchedulersOf(master);
  return done;
}

}  // namespace bb
